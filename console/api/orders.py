from flask import current_app, jsonify, request

from console.access import role_required
from console.api import bp
from console.api.params import int_param
from console.presenters import order_json, summary_json
from console.store import get_store


@bp.get("/orders")
@role_required("agent")
def recent():
    """The latest orders, newest first, a page at a time."""
    limit = int_param(request.args, "limit", current_app.config["PAGE_SIZE"], 1, 500)
    offset = int_param(request.args, "offset", 0, 0, 10_000_000)
    page = get_store().recent(offset=offset, limit=limit)
    return jsonify(results=[summary_json(s) for s in page.items], total=page.total,
                   offset=page.offset, limit=page.limit)


@bp.get("/orders/<order_no>")
@role_required("agent")
def detail(order_no: str):
    """The full order as the console shows it (secrets masked), with its story: plain-words
    status in the agent's language (``?lang=en|zh_CN`` overrides), timeline, proof
    warnings, related-order counts, agent notes and tags."""
    from console.extensions import db
    from console.orders.detail import build_detail, detail_json
    from console.orders.views import agent_lang, related_links

    view = build_detail(get_store(), db.session, order_no.strip(), agent_lang())
    return jsonify(detail_json(view, order_json(view.order), related_links(view)))
