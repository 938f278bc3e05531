"""The one service behind every action on an order: refund, reissue, cancel and edits.

The HTTP API, the console pages and the customer widget all come through here, so the
rules are enforced once:

1. the request is checked (400, nothing stored) and the actor's role (403);
2. a repeated Idempotency-Key replays its first answer (another body: 409);
3. the order's state is checked for a clear reason (409, nothing stored);
4. one console-DB transaction then claims the key (its first write, which also serialises
   twins), locks the order's console-side totals, writes the action, calls the store with
   the action's own store key, and writes the audit record with the action's final state;
5. only after commit are the signals sent, so live chat never announces a rollback.

Refunds above ``REFUND_APPROVAL_ABOVE`` or past the requester's ``REFUND_DAILY_LIMIT``
wait as ``pending_approval`` for a supervisor who is not the requester.  A store without
the ``refund`` capability gets a *manual* refund: the agent pays it back elsewhere and the
console records the reference.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, time, timezone
from decimal import Decimal
from typing import Callable
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from adapters.base import (
    CAP_CANCEL,
    CAP_EDIT,
    CAP_REFUND,
    CAP_REISSUE,
    NotAllowed,
    Order,
    OrderStore,
    StoreError,
)
from console import audit, signals
from console.actions import idempotency, rules
from console.actions.idempotency import Idempotency, Outcome
from console.actions.models import (
    EDIT_VIA,
    Action,
    EditRequest,
    from_cents,
    to_cents,
)
from console.actions.text import t as _t
from console.errors import STORE_ERROR_STATUS, ApiError
from console.extensions import db
from console.models import User, utcnow
from console.presenters import iso, money, order_json

log = logging.getLogger(__name__)

MONEY_KINDS = ("refund", "cancel")
CUSTOMER = "customer"


class ActionError(ApiError):
    """An ApiError with extra facts for the client (``offers``: what to do instead)."""

    def __init__(self, status: int, code: str, message: str, **extra: object) -> None:
        super().__init__(status, code, message)
        self.extra = extra


# --- JSON shapes ------------------------------------------------------------------

def action_json(action: Action) -> dict:
    return {
        "id": action.id, "kind": action.kind, "order_no": action.order_no,
        "state": action.state, "amount": money(action.amount), "reason": action.reason,
        "requester": action.requester_name, "approver": action.approver_name,
        "decision_note": action.decision_note, "manual_reference": action.manual_reference,
        "result": action.result or {}, "created_at": iso(action.created_at),
        "updated_at": iso(action.updated_at), "decided_at": iso(action.decided_at),
    }


def edit_request_json(request: EditRequest) -> dict:
    return request.as_json()


def _answer(action: Action, order: Order, message: str, **extra: object) -> dict:
    return {"action": action_json(action), "order": order_json(order), "message": message,
            **extra}


# --- the frame every action runs in -------------------------------------------------

def _session(session: Session | None) -> Session:
    return session if session is not None else db.session


def _require_role(actor: User, role: str) -> None:
    if actor is None or not actor.has_role(role):
        raise ActionError(403, "forbidden", _t("This needs the %(role)s role.", role=role))


def _store_error(exc: StoreError) -> ActionError:
    status = next((s for cls, s in STORE_ERROR_STATUS.items() if isinstance(exc, cls)), 500)
    return ActionError(status, exc.code, exc.message)


def _refusal(refusal: rules.Refusal | None) -> None:
    if refusal is not None:
        extra = {"offers": list(refusal.offers)} if refusal.offers else {}
        raise ActionError(409, refusal.code, refusal.message, **extra)


def _checked(check: Callable[[], object]) -> object:
    """Run input checks, turning ``rules.Invalid`` into a 400."""
    try:
        return check()
    except rules.Invalid as exc:
        raise ActionError(400, exc.code, exc.message) from None


def _get_order(store: OrderStore, order_no: str) -> Order:
    try:
        return store.get(order_no)
    except StoreError as exc:
        raise _store_error(exc) from None


def _perform(session: Session, idem: Idempotency, write: Callable[[], Outcome]) -> Outcome:
    """Claim the key, run ``write`` and commit it whole, or roll it all back."""
    for _ in range(2):
        replay = idem.replay()
        if replay is not None:
            return replay
        if idem.claim():
            break
    else:
        raise ActionError(409, "idempotency_in_progress",
                          _t("The same request is still being handled; try again."))
    try:
        outcome = write()
        idem.remember(outcome)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    try:
        idempotency.purge(session)
    except SQLAlchemyError:  # sweeping is housekeeping: the next action tries again
        session.rollback()
        log.warning("could not purge expired idempotency records", exc_info=True)
    for send in outcome.after_commit:
        try:
            send()
        except Exception:  # a listener's failure must not undo a committed action
            log.exception("action signal receiver failed")
    return outcome


def _lock_order(session: Session, order_no: str) -> None:
    """Serialise console-side totals of one order (pending and manual refunds).

    On SQLite the key claim already holds the database's write lock; PostgreSQL takes a
    transaction-scoped advisory lock named after the order.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
                        {"name": "kamidesk-order:" + order_no})


def _new_store_key() -> str:
    """Unique per action, never derived from ids a rollback could hand out again."""
    return "kd-" + uuid.uuid4().hex


def _replayable(session: Session, actor: User, idempotency_key: str, operation: str,
                payload: dict) -> tuple[Idempotency, Outcome | None]:
    """An agent's request as an idempotency record, and the first answer if the key was
    used for it already: a replay must answer as the first call did, so it comes before
    the checks that the order, having moved on since, would now fail."""
    idem = Idempotency(session, _actor_tag(actor, ""), idempotency_key, operation, payload)
    return idem, idem.replay()


def _actor_tag(actor: User | None, fallback: str) -> str:
    return f"user:{actor.id}" if actor is not None else fallback


def _signal_order(outcome: Outcome, before: Order, after: Order, detail: str) -> None:
    if after.status != before.status or after.refunded_amount != before.refunded_amount:
        outcome.after_commit.append(lambda: signals.order_changed.send(
            "actions", order_no=after.order_no, status=after.status,
            previous=before.status, detail=detail))


def _signal_action(outcome: Outcome, action_body: dict, actor: User | None) -> None:
    outcome.after_commit.append(lambda: signals.action_finished.send(
        "actions", action=action_body, order_no=action_body["order_no"], actor=actor))


# --- refunds --------------------------------------------------------------------------

def _console_refunded(session: Session, order_no: str) -> tuple[Decimal, Decimal]:
    """(manual refunds recorded, money waiting in pending approvals) for one order."""
    rows = session.execute(
        select(Action.state, func.coalesce(func.sum(Action.amount_cents), 0))
        .where(Action.order_no == order_no, Action.kind.in_(MONEY_KINDS),
               ((Action.state == "pending_approval")
                | ((Action.state == "done") & Action.manual_reference.is_not(None))))
        .group_by(Action.state)).all()
    totals = {state: from_cents(int(cents)) for state, cents in rows}
    return totals.get("done", Decimal("0.00")), totals.get("pending_approval", Decimal("0.00"))


def _left_to_refund(session: Session, order: Order) -> Decimal:
    manual, pending = _console_refunded(session, order.order_no)
    return rules.refundable(order, manual + pending)


def _today_start() -> datetime:
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    local = datetime.now(zone).date()
    return datetime.combine(local, time(0), tzinfo=zone).astimezone(timezone.utc)


def _needs_approval(session: Session, actor: User, amount: Decimal) -> bool:
    """Above the single-refund limit, or past the requester's total for today."""
    if amount > Decimal(str(current_app.config["REFUND_APPROVAL_ABOVE"])):
        return True
    spent = session.execute(
        select(func.coalesce(func.sum(Action.amount_cents), 0))
        .where(Action.requester_id == actor.id, Action.kind.in_(MONEY_KINDS),
               Action.state.in_(("done", "pending_approval")),
               Action.created_at >= _today_start())).scalar_one()
    limit = Decimal(str(current_app.config["REFUND_DAILY_LIMIT"]))
    return from_cents(int(spent)) + amount > limit


def refund(store: OrderStore, *, actor: User, order_no: str, amount: object, reason: object,
           idempotency_key: str, manual_reference: object = None,
           session: Session | None = None) -> Outcome:
    """Give money back, now or after a supervisor's approval; manual if the store can't."""
    session = _session(session)
    _require_role(actor, "agent")
    value = _checked(lambda: rules.parse_amount(amount))
    why = _checked(lambda: rules.clean_text(reason, "reason"))
    manual = CAP_REFUND not in store.capabilities
    reference = _checked(lambda: rules.clean_text(manual_reference, "manual_reference",
                                                  required=manual, limit=120)) or None
    idem, replay = _replayable(session, actor, idempotency_key, "refund", {
        "order_no": order_no, "amount": str(value), "reason": why, "reference": reference})
    if replay is not None:
        return replay
    order = _get_order(store, order_no)
    _refusal(rules.refusal_to_refund(order, value, _left_to_refund(session, order)))

    def write() -> Outcome:
        _lock_order(session, order_no)
        order = _get_order(store, order_no)  # again, now that concurrent refunds wait
        _refusal(rules.refusal_to_refund(order, value, _left_to_refund(session, order)))
        pending = _needs_approval(session, actor, value)
        action = Action(kind="refund", order_no=order_no, amount_cents=to_cents(value),
                        reason=why, requester_id=actor.id, requester_name=actor.name,
                        manual_reference=reference if manual else None,
                        state="pending_approval" if pending else "done",
                        store_key=idem.store_key, result={})
        session.add(action)
        session.flush()
        if pending:
            audit.record("refund_requested", actor, order_no=order_no, action_id=action.id,
                         amount=str(value), reason=why)
            message = _t("The refund of %(amount)s on order %(order)s waits for a "
                         "supervisor's approval.", amount=f"{value:.2f}", order=order_no)
            outcome = Outcome(202, _answer(action, order, message))
            _signal_action(outcome, outcome.body["action"], actor)
            return outcome
        return _execute_money(session, store, action, order, actor, kind="refund")

    return _perform(session, idem, _store_errors(write))


def _money_state(order: Order) -> dict:
    """What a refund or cancel changes, for the audit record's before/after."""
    return {"status": order.status, "refunded_amount": f"{order.refunded_amount:.2f}"}


def _execute_money(session: Session, store: OrderStore, action: Action, order: Order,
                   actor: User | None, kind: str, approver: User | None = None) -> Outcome:
    """Run a refund or cancel against the store (inside the open transaction)."""
    amount = action.amount or Decimal("0.00")
    manual = CAP_REFUND not in store.capabilities
    if action.kind == "refund" and manual:
        after = order
        action.result = {"manual": True, "refunded": f"{amount:.2f}"}
        message = _t("Recorded as a manual refund of %(amount)s: this order store cannot "
                     "refund, so pay it back through %(channel)s yourself (reference "
                     "%(reference)s).", amount=f"{amount:.2f}",
                     channel=order.payment.channel if order.payment else _t("the payment "
                                                                            "channel"),
                     reference=action.manual_reference)
    else:
        if action.kind == "refund":
            after = store.refund(order.order_no, amount, action.reason, action.store_key)
        else:
            after = store.cancel(order.order_no, action.reason, action.store_key)
        # a refund that returns refunded exactly its amount (a replay in the store included);
        # a cancel gives back whatever was left
        given = amount if action.kind == "refund" else \
            after.refunded_amount - order.refunded_amount
        action.result = {"refunded": f"{given:.2f}",
                         "refunded_total": f"{after.refunded_amount:.2f}",
                         "status": after.status}
        if action.kind == "refund":
            message = _t("Refunded %(amount)s on order %(order)s.", amount=f"{given:.2f}",
                         order=order.order_no)
        else:
            message = _t("Order %(order)s is cancelled.", order=order.order_no)
            due = amount - given
            if given:
                message += " " + _t("%(amount)s was refunded.", amount=f"{given:.2f}")
            if due > 0:
                action.result["manual_refund_due"] = f"{due:.2f}"
                message += " " + _t("This order store cannot refund: pay %(amount)s back "
                                    "yourself.", amount=f"{due:.2f}")
    now = utcnow()
    action.state, action.updated_at = "done", now
    if approver is not None:
        action.approver_id, action.approver_name, action.decided_at = \
            approver.id, approver.name, now
    audit.record(kind if approver is None else f"{kind}_approved", approver or actor,
                 actor_name=None if (approver or actor) else CUSTOMER,
                 order_no=order.order_no, action_id=action.id, amount=f"{amount:.2f}",
                 reason=action.reason, manual_reference=action.manual_reference,
                 requester=action.requester_name, status=after.status,
                 before=_money_state(order), after=_money_state(after))
    outcome = Outcome(200, _answer(action, after, message))
    _signal_order(outcome, order, after, message)
    _signal_action(outcome, outcome.body["action"], approver or actor)
    return outcome


# --- reissue --------------------------------------------------------------------------

def reissue(store: OrderStore, *, actor: User, order_no: str, reason: object,
            idempotency_key: str, session: Session | None = None) -> Outcome:
    """Void the delivered key(s) and deliver fresh ones; the new secrets are shown once."""
    session = _session(session)
    _require_role(actor, "agent")
    why = _checked(lambda: rules.clean_text(reason, "reason"))
    idem, replay = _replayable(session, actor, idempotency_key, "reissue",
                               {"order_no": order_no, "reason": why})
    if replay is not None:
        return replay
    if CAP_REISSUE not in store.capabilities:
        raise ActionError(409, "not_allowed", _t("This order store cannot reissue card keys."))
    order = _get_order(store, order_no)
    _refusal(rules.refusal_to_reissue(order))

    def write() -> Outcome:
        action = Action(kind="reissue", order_no=order_no, state="done", reason=why,
                        requester_id=actor.id, requester_name=actor.name,
                        store_key=idem.store_key, result={})
        session.add(action)
        session.flush()
        after = store.reissue(order_no, why, action.store_key)
        fresh = [k for k in after.card_keys if k.status == "delivered"]
        voided = [k.serial for k in order.card_keys if k.status == "delivered"]
        action.result = {"voided": voided, "new_serials": [k.serial for k in fresh]}
        audit.record("reissue", actor, order_no=order_no, action_id=action.id, reason=why,
                     voided=voided, new_serials=action.result["new_serials"],
                     before={"delivered": voided},
                     after={"delivered": action.result["new_serials"]})
        message = _t("New card key issued for order %(order)s; it is shown once, copy it now.",
                     order=order_no)
        body = _answer(action, after, message)
        body["action"]["new_keys"] = [{"serial": k.serial, "secret": k.secret} for k in fresh]
        outcome = Outcome(200, body)
        _signal_order(outcome, order, after, message)
        _signal_action(outcome, action_json(action), actor)
        outcome.after_commit.append(lambda: signals.keys_reissued.send(
            "actions", order_no=order_no, serials=[k.serial for k in fresh],
            secrets=[k.secret for k in fresh]))
        return outcome

    return _perform(session, idem, _store_errors(write))


def _store_errors(write: Callable[[], Outcome]) -> Callable[[], Outcome]:
    """Store refusals inside the transaction become clear 4xx (and roll everything back)."""
    def guarded() -> Outcome:
        try:
            return write()
        except StoreError as exc:
            raise _store_error(exc) from None
    return guarded


# --- cancel ---------------------------------------------------------------------------

def cancel(store: OrderStore, *, actor: User, order_no: str, reason: object,
           idempotency_key: str, session: Session | None = None) -> Outcome:
    """An agent cancels before delivery (with a reason); what was paid goes back."""
    session = _session(session)
    _require_role(actor, "agent")
    why = _checked(lambda: rules.clean_text(reason, "reason"))
    idem = Idempotency(session, _actor_tag(actor, ""), idempotency_key, "cancel",
                       {"order_no": order_no, "reason": why})
    return _cancel(store, session, idem, order_no, why, actor)


def customer_cancel(store: OrderStore, *, order_no: str, reason: object,
                    idempotency_key: str) -> dict:
    """The customer's own no-reason cancel from the widget: inside the window after paying,
    before delivery, refunded automatically.  Returns the same dict the API answers."""
    session = _session(None)
    why = _checked(lambda: rules.clean_text(reason, "reason", required=False))
    idem = Idempotency(session, f"{CUSTOMER}:{order_no}", idempotency_key, "customer_cancel",
                       {"order_no": order_no, "reason": why})
    replay = idem.replay()
    if replay is not None:
        return replay.body
    order = _get_order(store, order_no)
    minutes = int(current_app.config["CANCEL_WINDOW_MINUTES"])
    _refusal(rules.refusal_to_cancel(order))
    if not rules.cancel_window_open(order, utcnow(), minutes):
        raise ActionError(409, "cancel_window_closed", _t(
            "Orders can be cancelled without a reason only within %(minutes)s minutes of "
            "paying; please ask an agent.", minutes=minutes))
    return _cancel(store, session, idem, order_no, why or _t("cancelled by the customer"),
                   None, order=order).body


def _cancel(store: OrderStore, session: Session, idem: Idempotency, order_no: str, why: str,
            actor: User | None, order: Order | None = None) -> Outcome:
    replay = idem.replay()
    if replay is not None:
        return replay
    if CAP_CANCEL not in store.capabilities:
        raise ActionError(409, "not_allowed", _t("This order store cannot cancel orders."))
    _refusal(rules.refusal_to_cancel(order or _get_order(store, order_no)))

    def write() -> Outcome:
        _lock_order(session, order_no)
        order = _get_order(store, order_no)
        _refusal(rules.refusal_to_cancel(order))
        back = _left_to_refund(session, order)
        pending = actor is not None and back > 0 and _needs_approval(session, actor, back)
        action = Action(kind="cancel", order_no=order_no, amount_cents=to_cents(back),
                        reason=why, requester_id=actor.id if actor else None,
                        requester_name=actor.name if actor else CUSTOMER,
                        state="pending_approval" if pending else "done",
                        store_key=idem.store_key, result={})
        session.add(action)
        session.flush()
        if pending:
            audit.record("cancel_requested", actor, order_no=order_no, action_id=action.id,
                         amount=f"{back:.2f}", reason=why)
            message = _t("Cancelling order %(order)s refunds %(amount)s, so it waits for a "
                         "supervisor's approval.", order=order_no, amount=f"{back:.2f}")
            outcome = Outcome(202, _answer(action, order, message))
            _signal_action(outcome, outcome.body["action"], actor)
            return outcome
        kind = "cancel" if actor is not None else "customer_cancel"
        return _execute_money(session, store, action, order, actor, kind=kind)

    return _perform(session, idem, _store_errors(write))


# --- approvals of pending refunds and cancels ---------------------------------------

def _pending_action(session: Session, actor: User, action_id: int) -> Action:
    _require_role(actor, "supervisor")
    action = session.get(Action, action_id)
    if action is None:
        raise ActionError(404, "not_found", _t("There is no such action."))
    if action.requester_id == actor.id:
        raise ActionError(403, "self_approval",
                          _t("You asked for this; another supervisor must decide it."))
    if action.state != "pending_approval":
        raise ActionError(409, "already_decided",
                          _t("This action was already decided: %(state)s.", state=action.state))
    return action


def _take_pending(session: Session, action: Action) -> None:
    """Compare-and-set: only one decision wins, the others see already_decided."""
    won = session.execute(update(Action).where(Action.id == action.id,
                                               Action.state == "pending_approval")
                          .values(updated_at=utcnow())
                          .execution_options(synchronize_session=False)).rowcount
    if won != 1:
        raise ActionError(409, "already_decided", _t("This action was already decided."))
    session.refresh(action)


def approve_action(store: OrderStore, *, actor: User, action_id: int, idempotency_key: str,
                   session: Session | None = None) -> Outcome:
    """A supervisor (not the requester) lets a pending refund or cancel go through."""
    session = _session(session)
    _require_role(actor, "supervisor")
    idem, replay = _replayable(session, actor, idempotency_key, "approve_action",
                               {"action_id": action_id})
    if replay is not None:
        return replay
    action = _pending_action(session, actor, action_id)
    order_no = action.order_no

    def write() -> Outcome:
        _lock_order(session, order_no)
        _take_pending(session, action)
        order = _get_order(store, order_no)
        try:
            return _execute_money(session, store, action, order, None, kind=action.kind,
                                  approver=actor)
        except StoreError as exc:
            return _failed(action, order, actor, exc)

    return _perform(session, idem, write)


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
    status = next((s for cls, s in STORE_ERROR_STATUS.items() if isinstance(exc, cls)), 409)
    body = {"error": {"code": exc.code, "message": exc.message}, **_answer(
        action, order, exc.message)}
    outcome = Outcome(status, body)
    _signal_action(outcome, body["action"], actor)
    return outcome


def reject_action(store: OrderStore, *, actor: User, action_id: int, note: object = None,
                  idempotency_key: str, session: Session | None = None) -> Outcome:
    """A supervisor (not the requester) turns a pending refund or cancel down."""
    session = _session(session)
    _require_role(actor, "supervisor")
    why = _checked(lambda: rules.clean_text(note, "note", required=False))
    idem, replay = _replayable(session, actor, idempotency_key, "reject_action",
                               {"action_id": action_id, "note": why})
    if replay is not None:
        return replay
    action = _pending_action(session, actor, action_id)

    def write() -> Outcome:
        _take_pending(session, action)
        _decide_action(action, actor, "rejected")
        action.decision_note = why or None
        audit.record(f"{action.kind}_rejected", actor, order_no=action.order_no,
                     action_id=action.id, note=why, requester=action.requester_name)
        order = _get_order(store, action.order_no)
        message = _t("The %(kind)s on order %(order)s was rejected.", kind=action.kind,
                     order=action.order_no)
        outcome = Outcome(200, _answer(action, order, message))
        _signal_action(outcome, outcome.body["action"], actor)
        return outcome

    return _perform(session, idem, write)


# --- edit requests --------------------------------------------------------------------

def request_edit(store: OrderStore, *, order_no: str, changes: object, reason: object,
                 requested_by: User | None = None, via: str = "agent",
                 conversation_id: int | None = None) -> EditRequest:
    """Record a customer's wish to change an order (from the widget, or an agent for them).

    Refused at once (409 ``not_allowed`` with ``offers``) when the order was delivered.
    """
    session = _session(None)
    edit = _new_edit_request(store, session, order_no, changes, reason, requested_by, via,
                             conversation_id)
    session.commit()
    return edit


def _new_edit_request(store: OrderStore, session: Session, order_no: str, changes: object,
                      reason: object, requested_by: User | None, via: str,
                      conversation_id: int | None) -> EditRequest:
    wanted = _checked(lambda: rules.clean_changes(changes))
    why = _checked(lambda: rules.clean_text(reason, "reason", required=via != CUSTOMER))
    if via not in EDIT_VIA:
        raise ActionError(400, "invalid_via", _t("via must be agent or customer."))
    if via == "agent":
        _require_role(requested_by, "agent")
    order = _get_order(store, order_no)
    _refusal(rules.refusal_to_edit(order))
    edit = EditRequest(order_no=order_no, changes=wanted, reason=why, via=via,
                       conversation_id=conversation_id, state="pending",
                       requested_by_id=requested_by.id if requested_by else None,
                       requested_by_name=requested_by.name if requested_by else CUSTOMER,
                       store_key=_new_store_key())
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
    session = _session(session)
    _require_role(actor, "agent")
    wanted = _checked(lambda: rules.clean_changes(changes))
    why = _checked(lambda: rules.clean_text(reason, "reason"))
    idem, replay = _replayable(session, actor, idempotency_key, "edit_request", {
        "order_no": order_no, "changes": wanted, "reason": why,
        "conversation_id": conversation_id})
    if replay is not None:
        return replay
    order = _get_order(store, order_no)
    _refusal(rules.refusal_to_edit(order))

    def write() -> Outcome:
        edit = _new_edit_request(store, session, order_no, changes, reason, actor, "agent",
                                 conversation_id)
        message = _t("Edit request recorded; it applies once someone approves it.")
        return Outcome(201, {"request": edit_request_json(edit), "order": order_json(order),
                             "message": message})

    return _perform(session, idem, write)


def _pending_edit(session: Session, actor: User, request_id: int) -> EditRequest:
    _require_role(actor, "agent")
    edit = session.get(EditRequest, request_id)
    if edit is None:
        raise ActionError(404, "not_found", _t("There is no such edit request."))
    if edit.state != "pending":
        raise ActionError(409, "already_decided",
                          _t("This edit request was already decided: %(state)s.",
                             state=edit.state))
    return edit


def _take_pending_edit(session: Session, edit: EditRequest) -> None:
    won = session.execute(update(EditRequest).where(EditRequest.id == edit.id,
                                                    EditRequest.state == "pending")
                          .values(updated_at=utcnow())
                          .execution_options(synchronize_session=False)).rowcount
    if won != 1:
        raise ActionError(409, "already_decided", _t("This edit request was already decided."))
    session.refresh(edit)


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
    session = _session(session)
    _require_role(actor, "agent")
    idem, replay = _replayable(session, actor, idempotency_key, "approve_edit",
                               {"request_id": request_id})
    if replay is not None:
        return replay
    edit = _pending_edit(session, actor, request_id)

    def write() -> Outcome:
        _take_pending_edit(session, edit)
        order = _get_order(store, edit.order_no)
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
                raise _store_error(exc) from None
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
        outcome = Outcome(200, {**_answer(action, after, message),
                                "request": edit_request_json(edit)})
        _signal_edit(outcome, edit, actor)
        _signal_order(outcome, order, after, message)
        _signal_action(outcome, outcome.body["action"], actor)
        return outcome

    return _perform(session, idem, write)


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
    outcome = Outcome(409, body)
    _signal_edit(outcome, edit, actor)
    return outcome


def reject_edit(store: OrderStore, *, actor: User, request_id: int, note: object,
                idempotency_key: str, session: Session | None = None) -> Outcome:
    """Turn an edit request down; the note says why and goes to the customer."""
    session = _session(session)
    _require_role(actor, "agent")
    why = _checked(lambda: rules.clean_text(note, "note"))
    idem, replay = _replayable(session, actor, idempotency_key, "reject_edit",
                               {"request_id": request_id, "note": why})
    if replay is not None:
        return replay
    edit = _pending_edit(session, actor, request_id)

    def write() -> Outcome:
        _take_pending_edit(session, edit)
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
        order = _get_order(store, edit.order_no)
        message = _t("The edit request was rejected.")
        outcome = Outcome(200, {**_answer(action, order, message),
                                "request": edit_request_json(edit)})
        _signal_edit(outcome, edit, actor)
        _signal_action(outcome, outcome.body["action"], actor)
        return outcome

    return _perform(session, idem, write)


# --- reads for pages and the order panel ------------------------------------------

def pending_edit_requests(session: Session, order_no: str | None = None) -> list[EditRequest]:
    query = select(EditRequest).where(EditRequest.state == "pending")
    if order_no:
        query = query.where(EditRequest.order_no == order_no)
    return list(session.execute(query.order_by(EditRequest.created_at)).scalars())


def pending_actions(session: Session, order_no: str | None = None) -> list[Action]:
    query = select(Action).where(Action.state == "pending_approval")
    if order_no:
        query = query.where(Action.order_no == order_no)
    return list(session.execute(query.order_by(Action.created_at)).scalars())


def order_actions(session: Session, order_no: str, limit: int = 20) -> list[Action]:
    return list(session.execute(select(Action).where(Action.order_no == order_no)
                                .order_by(Action.created_at.desc(), Action.id.desc())
                                .limit(limit)).scalars())


def refund_left(session: Session, order: Order) -> Decimal:
    """What the refund dialog may offer at most."""
    return _left_to_refund(session, order)
