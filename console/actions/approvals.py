"""Supervisors' decisions on pending refunds and cancels (never the requester's own)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from adapters.base import Order, OrderStore, StoreError
from console import audit
from console.actions import rules
from console.actions.errors import Forbidden, NotFound, Refused
from console.actions.frame import (
    answer,
    get_order,
    lock_order,
    open_action,
    perform,
    require_role,
    signal_action,
    take_pending,
)
from console.actions.idempotency import Outcome, Result
from console.actions.models import Action
from console.actions.refunds import execute_money
from console.actions.text import t as _t
from console.models import User, utcnow


def _pending_action(session: Session, actor: User, action_id: int) -> Action:
    require_role(actor, "supervisor")
    action = session.get(Action, action_id)
    if action is None:
        raise NotFound("not_found", _t("There is no such action."))
    if action.requester_id == actor.id:
        raise Forbidden("self_approval",
                          _t("You asked for this; another supervisor must decide it."))
    if action.state != "pending_approval":
        raise Refused("already_decided",
                          _t("This action was already decided: %(state)s.", state=action.state))
    return action


def approve_action(store: OrderStore, *, actor: User, action_id: int, idempotency_key: str,
                   session: Session | None = None) -> Outcome:
    """A supervisor (not the requester) lets a pending refund or cancel go through."""
    opened = open_action(session, actor, "supervisor", "approve_action", idempotency_key,
                         lambda: {"action_id": action_id})
    if opened.replay is not None:
        return opened.replay
    session, idem = opened.session, opened.idem
    action = _pending_action(session, actor, action_id)
    order_no = action.order_no

    def write() -> Outcome:
        lock_order(session, order_no)
        take_pending(session, action, "pending_approval",
                     _t("This action was already decided."))
        order = get_order(store, order_no)
        try:
            return execute_money(session, store, action, order, None, kind=action.kind,
                                 approver=actor)
        except StoreError as exc:
            return _failed(action, order, actor, exc)

    return perform(session, idem, write)


def _decide_action(action: Action, actor: User, state: str) -> None:
    now = utcnow()
    action.state, action.updated_at, action.decided_at = state, now, now
    action.approver_id, action.approver_name = actor.id, actor.name


def _failed(action: Action, order: Order, actor: User, exc: StoreError) -> Outcome:
    """The store refused at approval time: the action fails, with the store's reason."""
    _decide_action(action, actor, "failed")
    action.result = {"error": {"code": exc.code, "message": exc.message}}
    audit.record(f"{action.kind}_failed", actor, order_no=action.order_no,
                 action_id=action.id, code=exc.code, message=exc.message)
    body = {"error": {"code": exc.code, "message": exc.message}, **answer(
        action, order, exc.message)}
    outcome = Outcome(Result.REFUSED, body)
    signal_action(outcome, body["action"], actor)
    return outcome


def reject_action(store: OrderStore, *, actor: User, action_id: int, note: object = None,
                  idempotency_key: str, session: Session | None = None) -> Outcome:
    """A supervisor (not the requester) turns a pending refund or cancel down."""
    opened = open_action(session, actor, "supervisor", "reject_action", idempotency_key,
                         lambda: {"action_id": action_id,
                                  "note": rules.clean_text(note, "note", required=False)})
    if opened.replay is not None:
        return opened.replay
    session, idem, why = opened.session, opened.idem, opened.request["note"]
    action = _pending_action(session, actor, action_id)

    def write() -> Outcome:
        take_pending(session, action, "pending_approval",
                     _t("This action was already decided."))
        _decide_action(action, actor, "rejected")
        action.decision_note = why or None
        audit.record(f"{action.kind}_rejected", actor, order_no=action.order_no,
                     action_id=action.id, note=why, requester=action.requester_name)
        order = get_order(store, action.order_no)
        message = _t("The %(kind)s on order %(order)s was rejected.", kind=action.kind,
                     order=action.order_no)
        outcome = Outcome(Result.DONE, answer(action, order, message))
        signal_action(outcome, outcome.body["action"], actor)
        return outcome

    return perform(session, idem, write)
