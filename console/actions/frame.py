"""The frame every action runs in: checks, the idempotent transaction, JSON shapes, signals.

Each action (``refunds``, ``reissue_cancel``, ``approvals``, ``edits``) checks the request
and the actor's role, replays a repeated Idempotency-Key, checks the order, then hands
``perform`` the write that claims the key, changes state, calls the store and audits in
one console-DB transaction; signals go out only after commit.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from adapters.base import Order, OrderStore, StoreError
from console import signals
from console.actions import idempotency, rules
from console.actions.errors import Forbidden, InvalidInput, Refused, StoreRefused
from console.actions.idempotency import Idempotency, Outcome
from console.actions.models import Action, EditRequest
from console.actions.text import t as _t
from console.extensions import db
from console.models import User, utcnow
from console.presenters import iso, money, order_json

log = logging.getLogger(__name__)
T = TypeVar("T")

MONEY_KINDS = ("refund", "cancel")
CUSTOMER = "customer"


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


def answer(action: Action, order: Order, message: str, **extra: object) -> dict:
    return {"action": action_json(action), "order": order_json(order), "message": message,
            **extra}


def session_or_default(session: Session | None) -> Session:
    return session if session is not None else db.session


def require_role(actor: User | None, role: str) -> None:
    if actor is None or not actor.has_role(role):
        raise Forbidden("forbidden", _t("This needs the %(role)s role.", role=role))


def refuse_if(refusal: rules.Refusal | None) -> None:
    if refusal is not None:
        extra = {"offers": list(refusal.offers)} if refusal.offers else {}
        raise Refused(refusal.code, refusal.message, **extra)


def checked(check: Callable[[], T]) -> T:
    """Run input checks, turning ``rules.Invalid`` into a 400."""
    try:
        return check()
    except rules.Invalid as exc:
        raise InvalidInput(exc.code, exc.message) from None


def get_order(store: OrderStore, order_no: str) -> Order:
    try:
        return store.get(order_no)
    except StoreError as exc:
        raise StoreRefused(exc) from None


def perform(session: Session, idem: Idempotency, write: Callable[[], Outcome]) -> Outcome:
    """Claim the key, run ``write`` and commit it whole, or roll it all back."""
    for _ in range(2):
        replay = idem.replay()
        if replay is not None:
            return replay
        if idem.claim():
            break
    else:
        raise Refused("idempotency_in_progress",
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


def take_pending(session: Session, row: Action | EditRequest, pending: str,
                 already_decided: str) -> None:
    """Compare-and-set on a pending action or edit request: only one decision wins, the
    others see ``already_decided``."""
    model = type(row)
    won = session.execute(update(model).where(model.id == row.id, model.state == pending)
                          .values(updated_at=utcnow())
                          .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]  # DML: a CursorResult
    if won != 1:
        raise Refused("already_decided", already_decided)
    session.refresh(row)


def lock_order(session: Session, order_no: str) -> None:
    """Serialise console-side totals of one order (pending and manual refunds).

    On SQLite the key claim already holds the database's write lock; PostgreSQL takes a
    transaction-scoped advisory lock named after the order.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
                        {"name": "kamidesk-order:" + order_no})


def new_store_key() -> str:
    """Unique per action, never derived from ids a rollback could hand out again."""
    return "kd-" + uuid.uuid4().hex


@dataclass(frozen=True)
class Opened:
    """An agent's action past its prologue: the session, the idempotency record, the
    request as checked (what the record fingerprints), and the first answer when the key
    was used for this request already."""

    session: Session
    idem: Idempotency
    request: dict[str, Any]
    replay: Outcome | None


def open_action(session: Session | None, actor: User | None, role: str, operation: str,
                idempotency_key: str, request: Callable[[], dict[str, Any]]) -> Opened:
    """The prologue every agent's action shares, in this order: the role (403) before the
    input (``request`` runs its checks; ``rules.Invalid`` becomes a 400), then the replay.
    A replay must answer as the first call did, so it comes before the checks that the
    order, having moved on since, would now fail; the caller returns ``replay`` if set."""
    session = session_or_default(session)
    require_role(actor, role)
    checked_request = checked(request)
    idem = Idempotency(session, actor_tag(actor, ""), idempotency_key, operation,
                       checked_request)
    return Opened(session, idem, checked_request, idem.replay())


def actor_tag(actor: User | None, fallback: str) -> str:
    return f"user:{actor.id}" if actor is not None else fallback


def signal_order(outcome: Outcome, before: Order, after: Order, detail: str) -> None:
    if after.status != before.status or after.refunded_amount != before.refunded_amount:
        outcome.after_commit.append(lambda: signals.order_changed.send(
            "actions", order_no=after.order_no, status=after.status,
            previous=before.status, detail=detail))


def signal_action(outcome: Outcome, action_body: dict, actor: User | None) -> None:
    outcome.after_commit.append(lambda: signals.action_finished.send(
        "actions", action=action_body, order_no=action_body["order_no"], actor=actor))


def store_errors(write: Callable[[], Outcome]) -> Callable[[], Outcome]:
    """Store refusals inside the transaction become clear 4xx (and roll everything back)."""
    def guarded() -> Outcome:
        try:
            return write()
        except StoreError as exc:
            raise StoreRefused(exc) from None
    return guarded
