"""Refunds: the approval limits, the refund action, and running a refund or cancel
against the store (shared with cancels and approvals).

Refunds above ``refund_approval_above`` or past the requester's ``refund_daily_limit``
for today wait as ``pending_approval``.  A store without the ``refund`` capability gets a
*manual* refund: the agent pays it back elsewhere and the console records the reference.
"""
from __future__ import annotations

from datetime import datetime, time, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters.base import CAP_REFUND, Order, OrderStore
from console import audit
from console.actions import rules
from console.actions.frame import (
    CUSTOMER,
    MONEY_KINDS,
    answer,
    get_order,
    lock_order,
    open_action,
    perform,
    refuse_if,
    signal_action,
    signal_order,
    store_errors,
)
from console.actions.idempotency import Outcome, Result
from console.actions.models import Action, from_cents, to_cents
from console.actions.settings import ActionSettings
from console.actions.text import t as _t
from console.models import User, utcnow


def _console_refunded(session: Session, order_no: str) -> tuple[Decimal, Decimal]:
    """(manual refunds recorded, money waiting in pending approvals) for one order."""
    rows = session.execute(
        select(Action.state, func.coalesce(func.sum(Action.amount_cents), 0))
        .where(Action.order_no == order_no, Action.kind.in_(MONEY_KINDS),
               ((Action.state == "pending_approval")
                | ((Action.state == "done") & Action.manual_reference.is_not(None))))
        .group_by(Action.state)).all()
    totals = {state: from_cents(int(cents or 0)) for state, cents in rows}
    return totals.get("done", Decimal("0.00")), totals.get("pending_approval", Decimal("0.00"))


def left_to_refund(session: Session, order: Order) -> Decimal:
    manual, pending = _console_refunded(session, order.order_no)
    return rules.refundable(order, manual + pending)


def _today_start(settings: ActionSettings) -> datetime:
    zone = ZoneInfo(settings.timezone)
    local = datetime.now(zone).date()
    return datetime.combine(local, time(0), tzinfo=zone).astimezone(timezone.utc)


def needs_approval(session: Session, actor: User, amount: Decimal,
                   settings: ActionSettings) -> bool:
    """Above the single-refund limit, or past the requester's total for today."""
    if amount > settings.refund_approval_above:
        return True
    spent = session.execute(
        select(func.coalesce(func.sum(Action.amount_cents), 0))
        .where(Action.requester_id == actor.id, Action.kind.in_(MONEY_KINDS),
               Action.state.in_(("done", "pending_approval")),
               Action.created_at >= _today_start(settings))).scalar_one()
    return from_cents(int(spent or 0)) + amount > settings.refund_daily_limit


def refund(store: OrderStore, *, actor: User, order_no: str, amount: object, reason: object,
           idempotency_key: str, settings: ActionSettings, manual_reference: object = None,
           session: Session | None = None) -> Outcome:
    """Give money back, now or after a supervisor's approval; manual if the store can't."""
    manual = CAP_REFUND not in store.capabilities
    opened = open_action(session, actor, "agent", "refund", idempotency_key, lambda: {
        "order_no": order_no, "amount": rules.parse_amount(amount),
        "reason": rules.clean_text(reason, "reason"),
        "reference": rules.clean_text(manual_reference, "manual_reference", required=manual,
                                      limit=120) or None})
    if opened.replay is not None:
        return opened.replay
    session, idem = opened.session, opened.idem
    request = opened.request
    value, why, reference = request["amount"], request["reason"], request["reference"]
    order = get_order(store, order_no)
    refuse_if(rules.refusal_to_refund(order, value, left_to_refund(session, order)))

    def write() -> Outcome:
        lock_order(session, order_no)
        order = get_order(store, order_no)  # again, now that concurrent refunds wait
        refuse_if(rules.refusal_to_refund(order, value, left_to_refund(session, order)))
        pending = needs_approval(session, actor, value, settings)
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
            outcome = Outcome(Result.PENDING, answer(action, order, message))
            signal_action(outcome, outcome.body["action"], actor)
            return outcome
        return execute_money(session, store, action, order, actor, kind="refund")

    return perform(session, idem, store_errors(write))


def _money_state(order: Order) -> dict:
    """What a refund or cancel changes, for the audit record's before/after."""
    return {"status": order.status, "refunded_amount": f"{order.refunded_amount:.2f}"}


def execute_money(session: Session, store: OrderStore, action: Action, order: Order,
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
    outcome = Outcome(Result.DONE, answer(action, after, message))
    signal_order(outcome, order, after, message)
    signal_action(outcome, outcome.body["action"], approver or actor)
    return outcome


def refund_left(session: Session, order: Order) -> Decimal:
    """What the refund dialog may offer at most."""
    return left_to_refund(session, order)
