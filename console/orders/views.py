"""The order detail page (``orders.detail``) and its audited related-search redirect."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template
from flask_login import current_user

from console.access import role_required
from console.errors import ApiError
from console.extensions import db
from console.orders.context import agent_lang, related_links, search_url
from console.orders.detail import build_detail
from console.orders.reveal import reveal_contact
from console.presenters import order_json
from console.store import get_store

bp = Blueprint("orders", __name__)

RELATED = ("same_ip", "same_buyer")


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
