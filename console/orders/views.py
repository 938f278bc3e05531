"""The order detail page (``orders.detail``) and the related-orders links behind its counts."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from console.access import role_required
from console.errors import ApiError
from console.extensions import db
from console.orders.context import agent_lang, related_links, search_url
from console.orders.detail import build_detail, same_buyer_orders
from console.pages.search import status_labels
from console.presenters import order_json, summary_json
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
    """The orders sharing this order's IP (a search: the page shows the IP anyway) or its
    buyer (a page of the buyer's orders with the contact masked; seeing it whole is the
    audited reveal POST, ``api.reveal``, as on the order page)."""
    if which not in RELATED:
        raise ApiError(404, "not_found", "unknown relation")
    store = get_store()
    order = store.get(order_no.strip())
    if which == "same_ip":
        if not order.buyer_ip:
            raise ApiError(404, "not_found", "this order has no buyer IP")
        return redirect(search_url(order.buyer_ip))
    rows = [{**summary_json(summary), "created": summary.created_at,
             "url": url_for("orders.detail", order_no=summary.order_no)}
            for summary in same_buyer_orders(store, order)]
    return render_template("orders/same_buyer.html", order=order, shown=order_json(order),
                           rows=rows, statuses=status_labels())
