"""Pages for actions: the edit-request queue, supervisors' approvals and the audit log,
plus ``actions_panel(order)`` for the order page's actions panel."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user

from adapters.base import Order
from console.access import role_required
from console.actions import audit_log, rules, service
from console.actions.models import Action, EditRequest
from console.errors import ApiError
from console.extensions import db
from console.store import get_store

bp = Blueprint("actions", __name__)


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() else 1


def _pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


@bp.app_context_processor
def panel_helpers() -> dict:
    return {"actions_panel": actions_panel}


def actions_panel(order: Order) -> dict:
    """What the order page's actions panel shows: the buttons that make sense for this
    order and store, the pending requests and approvals, and the recent outcomes."""
    store = get_store()
    session = db.session
    user = current_user
    left = service.refund_left(session, order)
    return {
        "available": rules.available_actions(order, store.capabilities),
        "reasons": rules.unavailable_reasons(order, store.capabilities, left),
        "refund_left": left,
        "edit_requests": service.pending_edit_requests(session, order.order_no),
        "pending": service.pending_actions(session, order.order_no),
        "recent": service.order_actions(session, order.order_no, limit=10),
        "is_supervisor": bool(user and user.is_authenticated and user.has_role("supervisor")),
        "user_id": getattr(user, "id", None),
        "approval_above": current_app.config["REFUND_APPROVAL_ABOVE"],
    }


@bp.get("/edit-requests")
@role_required("agent")
def edit_requests():
    """The queue of edit requests: pending first (oldest first, they waited longest)."""
    size = current_app.config["PAGE_SIZE"]
    number = _page_number()
    state = request.args.get("state") or None
    query = db.select(EditRequest)
    if state:
        query = query.where(EditRequest.state == state)
    total = db.session.execute(db.select(db.func.count()).select_from(query.subquery()))\
        .scalar_one()
    pending_first = db.case((EditRequest.state == "pending", 0), else_=1)
    rows = db.session.execute(
        query.order_by(pending_first,
                       db.case((EditRequest.state == "pending", EditRequest.id), else_=None),
                       EditRequest.id.desc())
        .offset((number - 1) * size).limit(size)).scalars().all()
    return render_template("actions/edit_requests.html", rows=rows, total=total,
                           number=number, pages=_pages(total, size), state=state)


@bp.get("/approvals")
@role_required("supervisor")
def approvals():
    """Refunds and cancels waiting for a supervisor; your own requests are marked."""
    size = current_app.config["PAGE_SIZE"]
    number = _page_number()
    query = db.select(Action).where(Action.state == "pending_approval")
    total = db.session.execute(db.select(db.func.count()).select_from(query.subquery()))\
        .scalar_one()
    rows = db.session.execute(query.order_by(Action.created_at, Action.id)
                              .offset((number - 1) * size).limit(size)).scalars().all()
    return render_template("actions/approvals.html", rows=rows, total=total, number=number,
                           pages=_pages(total, size))


@bp.get("/audit")
@role_required("supervisor")
def audit():
    """The audit trail with filters, a page at a time, and the same filters as CSV."""
    size = current_app.config["PAGE_SIZE"]
    number = _page_number()
    try:
        f = audit_log.make_filter(request.args, current_app.config["TIMEZONE"])
    except audit_log.BadFilter as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from None
    rows, total = audit_log.page(db.session, f, number, size)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "actions/audit.html", total=total,
        rows=[{**audit_log.record_json(r), "when": audit_log.aware(r.at)} for r in rows],
        number=number, pages=_pages(total, size), args=args,
        kinds=audit_log.kinds(db.session),
        csv_url=url_for("api.audit_csv", **args),
        page_url=lambda n: url_for("actions.audit", page=n, **args))
