"""Edit requests: recorded from the widget or by an agent, then approved (applied through
the store when it can edit) or rejected; too late to edit means refused with offers."""
from __future__ import annotations

from sqlalchemy.orm import Session

from adapters.base import CAP_EDIT, NotAllowed, Order, OrderStore, StoreError
from console import audit, signals
from console.actions import rules
from console.actions.errors import InvalidInput, NotFound, Refused, StoreRefused
from console.actions.frame import (
    CUSTOMER,
    answer,
    checked,
    edit_request_json,
    get_order,
    new_store_key,
    open_action,
    perform,
    refuse_if,
    require_role,
    session_or_default,
    signal_action,
    signal_order,
    take_pending,
)
from console.actions.idempotency import Outcome, Result
from console.actions.models import EDIT_VIA, Action, EditRequest
from console.actions.text import t as _t
from console.models import User, utcnow
from console.presenters import order_json


def request_edit(store: OrderStore, *, order_no: str, changes: object, reason: object,
                 requested_by: User | None = None, via: str = "agent",
                 conversation_id: int | None = None) -> EditRequest:
    """Record a customer's wish to change an order (from the widget, or an agent for them).

    Refused at once (409 ``not_allowed`` with ``offers``) when the order was delivered.
    """
    session = session_or_default(None)
    edit = _new_edit_request(store, session, order_no, changes, reason, requested_by, via,
                             conversation_id)
    session.commit()
    return edit


def _new_edit_request(store: OrderStore, session: Session, order_no: str, changes: object,
                      reason: object, requested_by: User | None, via: str,
                      conversation_id: int | None) -> EditRequest:
    wanted = checked(lambda: rules.clean_changes(changes))
    why = checked(lambda: rules.clean_text(reason, "reason", required=via != CUSTOMER))
    if via not in EDIT_VIA:
        raise InvalidInput("invalid_via", _t("via must be agent or customer."))
    if via == "agent":
        require_role(requested_by, "agent")
    order = get_order(store, order_no)
    refuse_if(rules.refusal_to_edit(order))
    edit = EditRequest(order_no=order_no, changes=wanted, reason=why, via=via,
                       conversation_id=conversation_id, state="pending",
                       requested_by_id=requested_by.id if requested_by else None,
                       requested_by_name=requested_by.name if requested_by else CUSTOMER,
                       store_key=new_store_key())
    session.add(edit)
    session.flush()
    audit.record("edit_requested", requested_by, actor_name=None if requested_by else CUSTOMER,
                 order_no=order_no, request_id=edit.id, changes=wanted, reason=why, via=via)
    return edit


def create_edit_request(store: OrderStore, *, actor: User, order_no: str, changes: object,
                        reason: object, idempotency_key: str,
                        conversation_id: int | None = None,
                        session: Session | None = None) -> Outcome:
    """The API's way in to ``request_edit``: an agent on a customer's behalf, idempotent."""
    opened = open_action(session, actor, "agent", "edit_request", idempotency_key, lambda: {
        "order_no": order_no, "changes": rules.clean_changes(changes),
        "reason": rules.clean_text(reason, "reason"), "conversation_id": conversation_id})
    if opened.replay is not None:
        return opened.replay
    session, idem = opened.session, opened.idem
    order = get_order(store, order_no)
    refuse_if(rules.refusal_to_edit(order))

    def write() -> Outcome:
        edit = _new_edit_request(store, session, order_no, changes, reason, actor, "agent",
                                 conversation_id)
        message = _t("Edit request recorded; it applies once someone approves it.")
        return Outcome(Result.CREATED, {"request": edit_request_json(edit),
                                        "order": order_json(order), "message": message})

    return perform(session, idem, write)


def _pending_edit(session: Session, actor: User, request_id: int) -> EditRequest:
    require_role(actor, "agent")
    edit = session.get(EditRequest, request_id)
    if edit is None:
        raise NotFound("not_found", _t("There is no such edit request."))
    if edit.state != "pending":
        raise Refused("already_decided",
                          _t("This edit request was already decided: %(state)s.",
                             state=edit.state))
    return edit


def _decide_edit(edit: EditRequest, actor: User, state: str, note: str | None) -> None:
    now = utcnow()
    edit.state, edit.note, edit.updated_at, edit.decided_at = state, note, now, now
    edit.decided_by_id, edit.decided_by_name = actor.id, actor.name


def _signal_edit(outcome: Outcome, edit: EditRequest, actor: User) -> None:
    body = edit_request_json(edit)
    outcome.after_commit.append(lambda: signals.edit_request_decided.send(
        "actions", request=body, actor=actor))


def approve_edit(store: OrderStore, *, actor: User, request_id: int, idempotency_key: str,
                 session: Session | None = None) -> Outcome:
    """Apply a pending edit through the store if the order still allows it; otherwise the
    request is refused with the reason and reissue/refund are offered instead."""
    opened = open_action(session, actor, "agent", "approve_edit", idempotency_key,
                         lambda: {"request_id": request_id})
    if opened.replay is not None:
        return opened.replay
    session, idem = opened.session, opened.idem
    edit = _pending_edit(session, actor, request_id)

    def write() -> Outcome:
        take_pending(session, edit, "pending",
                     _t("This edit request was already decided."))
        order = get_order(store, edit.order_no)
        refusal = rules.refusal_to_edit(order)
        if refusal is not None:
            return _refuse_edit(edit, order, actor, refusal.message)
        action = Action(kind="edit", order_no=edit.order_no, state="done", reason=edit.reason,
                        requester_id=edit.requested_by_id,
                        requester_name=edit.requested_by_name, approver_id=actor.id,
                        approver_name=actor.name, decided_at=utcnow(),
                        store_key=edit.store_key, result={"request_id": edit.id,
                                                          "changes": edit.changes})
        if CAP_EDIT in store.capabilities:
            try:
                after = store.apply_edit(edit.order_no, edit.changes, edit.store_key)
            except NotAllowed as exc:
                return _refuse_edit(edit, order, actor, exc.reason)
            except StoreError as exc:
                raise StoreRefused(exc) from None
            _decide_edit(edit, actor, "applied", None)
            message = _t("The edit is applied to order %(order)s.", order=edit.order_no)
        else:
            after = order
            action.result["manual"] = True
            _decide_edit(edit, actor, "approved", None)
            message = _t("Approved. This order store cannot edit orders: make the change in "
                         "the shop's admin.")
        session.add(action)
        session.flush()
        audit.record("edit_applied" if edit.state == "applied" else "edit_approved", actor,
                     order_no=edit.order_no, request_id=edit.id, action_id=action.id,
                     changes=edit.changes,
                     before={name: _field(order, name) for name in edit.changes},
                     after={name: _field(after, name) for name in edit.changes})
        outcome = Outcome(Result.DONE, {**answer(action, after, message),
                                "request": edit_request_json(edit)})
        _signal_edit(outcome, edit, actor)
        signal_order(outcome, order, after, message)
        signal_action(outcome, outcome.body["action"], actor)
        return outcome

    return perform(session, idem, write)


def _field(order: Order, name: str) -> object:
    """An edited field's value as the audit record keeps it (a string, or None)."""
    value = order.product.sku if name == "sku" else getattr(order, name, None)
    return None if value is None else str(value)


def _refuse_edit(edit: EditRequest, order: Order, actor: User, reason: str) -> Outcome:
    """Too late to edit: the request is closed with the reason; nothing touches the order."""
    _decide_edit(edit, actor, "refused", reason)
    audit.record("edit_refused", actor, order_no=edit.order_no, request_id=edit.id,
                 reason=reason)
    offers = list(rules.AFTER_DELIVERY_OFFERS)
    body = {"error": {"code": "not_allowed", "message": reason, "offers": offers},
            "request": edit_request_json(edit), "order": order_json(order)}
    outcome = Outcome(Result.REFUSED, body)
    _signal_edit(outcome, edit, actor)
    return outcome


def reject_edit(store: OrderStore, *, actor: User, request_id: int, note: object,
                idempotency_key: str, session: Session | None = None) -> Outcome:
    """Turn an edit request down; the note says why and goes to the customer."""
    opened = open_action(session, actor, "agent", "reject_edit", idempotency_key, lambda: {
        "request_id": request_id, "note": rules.clean_text(note, "note")})
    if opened.replay is not None:
        return opened.replay
    session, idem, why = opened.session, opened.idem, opened.request["note"]
    edit = _pending_edit(session, actor, request_id)

    def write() -> Outcome:
        take_pending(session, edit, "pending",
                     _t("This edit request was already decided."))
        _decide_edit(edit, actor, "rejected", why)
        action = Action(kind="edit", order_no=edit.order_no, state="rejected",
                        reason=edit.reason, requester_id=edit.requested_by_id,
                        requester_name=edit.requested_by_name, approver_id=actor.id,
                        approver_name=actor.name, decision_note=why, decided_at=utcnow(),
                        store_key=edit.store_key, result={"request_id": edit.id})
        session.add(action)
        session.flush()
        audit.record("edit_rejected", actor, order_no=edit.order_no, request_id=edit.id,
                     action_id=action.id, note=why)
        order = get_order(store, edit.order_no)
        message = _t("The edit request was rejected.")
        outcome = Outcome(Result.DONE, {**answer(action, order, message),
                                "request": edit_request_json(edit)})
        _signal_edit(outcome, edit, actor)
        signal_action(outcome, outcome.body["action"], actor)
        return outcome

    return perform(session, idem, write)
