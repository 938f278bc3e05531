"""The order detail page (``orders.detail``) and the links it hands out."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from console.access import role_required
from console.errors import ApiError
from console.extensions import db
from console.orders.detail import OrderDetail, build_detail
from console.orders.explain import LANGS, normalise_lang
from console.orders.reveal import reveal_contact
from console.presenters import order_json
from console.store import get_store

bp = Blueprint("orders", __name__)

RELATED = ("same_ip", "same_buyer")


def agent_lang() -> str:
    """The agent's language for explanations: ``?lang=`` (API callers), else the UI locale."""
    asked = request.args.get("lang")
    if asked in LANGS:
        return asked
    return normalise_lang(str(get_locale() or "en"))


def search_url(query: str) -> str:
    """The search page (``/`` with ``?q=``) for one fragment."""
    return url_for("pages.index", q=query)


def related_links(view: OrderDetail) -> dict[str, str | None]:
    """Search links behind the same-IP and same-buyer counts.

    The IP is shown on the page anyway, so its link searches it directly.  The buyer is
    found by phone or email, which the page masks; that link goes through
    ``orders.related_search`` so following it is audited like a reveal.
    """
    order = view.order
    buyer_link = None
    if view.buyer_search:
        buyer = order.buyer
        buyer_link = (search_url(view.buyer_search) if not (buyer.phone or buyer.email)
                      else url_for("orders.related_search", order_no=order.order_no,
                                   which="same_buyer"))
    return {"same_ip": search_url(order.buyer_ip) if order.buyer_ip else None,
            "same_buyer": buyer_link}


@bp.get("/orders/<order_no>")
@role_required("agent")
def detail(order_no: str):
    """The whole story of one order on one screen; secrets and contacts masked."""
    view = build_detail(get_store(), db.session, order_no.strip(), agent_lang())
    return render_template("orders/detail.html", view=view, order=view.order,
                           shown=order_json(view.order), links=related_links(view))


@bp.get("/orders/<order_no>/related/<which>")
@role_required("agent")
def related_search(order_no: str, which: str):
    """Open search for the orders sharing this order's IP or buyer (buyer: audited)."""
    if which not in RELATED:
        raise ApiError(404, "not_found", "unknown relation")
    store = get_store()
    if which == "same_ip":
        ip = store.get(order_no).buyer_ip
        if not ip:
            raise ApiError(404, "not_found", "this order has no buyer IP")
        return redirect(search_url(ip))
    buyer = reveal_contact(store, order_no, current_user._get_current_object(),
                           via="same_buyer_search")
    query = buyer.phone or buyer.email or buyer.account
    if not query:
        raise ApiError(404, "not_found", "this order has no known buyer")
    return redirect(search_url(query))


from console.orders import api  # noqa: E402,F401  (JSON routes on the same blueprint)
