"""Reissuing card keys, and cancelling an order (by an agent, or by the customer inside
the no-reason window)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from adapters.base import CAP_CANCEL, CAP_REISSUE, Order, OrderStore
from console import audit, signals
from console.actions import rules
from console.actions.errors import Refused
from console.actions.frame import (
    CUSTOMER,
    action_json,
    answer,
    checked,
    get_order,
    lock_order,
    open_action,
    perform,
    refuse_if,
    session_or_default,
    signal_action,
    signal_order,
    store_errors,
)
from console.actions.idempotency import Idempotency, Outcome, Result
from console.actions.models import Action, to_cents
from console.actions.refunds import execute_money, left_to_refund, needs_approval
from console.actions.settings import ActionSettings
from console.actions.text import t as _t
from console.models import User, utcnow

DEFAULTS = ActionSettings()


def reissue(store: OrderStore, *, actor: User, order_no: str, reason: object,
            idempotency_key: str, session: Session | None = None) -> Outcome:
    """Void the delivered key(s) and deliver fresh ones; the new secrets are shown once."""
    opened = open_action(session, actor, "agent", "reissue", idempotency_key, lambda: {
        "order_no": order_no, "reason": rules.clean_text(reason, "reason")})
    if opened.replay is not None:
        return opened.replay
    session, idem, why = opened.session, opened.idem, opened.request["reason"]
    if CAP_REISSUE not in store.capabilities:
        raise Refused("not_allowed", _t("This order store cannot reissue card keys."))
    order = get_order(store, order_no)
    refuse_if(rules.refusal_to_reissue(order))

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
        body = answer(action, after, message)
        body["action"]["new_keys"] = [{"serial": k.serial, "secret": k.secret} for k in fresh]
        outcome = Outcome(Result.DONE, body)
        signal_order(outcome, order, after, message)
        signal_action(outcome, action_json(action), actor)
        outcome.after_commit.append(lambda: signals.keys_reissued.send(
            "actions", order_no=order_no, serials=[k.serial for k in fresh],
            secrets=[k.secret for k in fresh]))
        return outcome

    return perform(session, idem, store_errors(write))


def cancel(store: OrderStore, *, actor: User, order_no: str, reason: object,
           idempotency_key: str, settings: ActionSettings,
           session: Session | None = None) -> Outcome:
    """An agent cancels before delivery (with a reason); what was paid goes back."""
    opened = open_action(session, actor, "agent", "cancel", idempotency_key, lambda: {
        "order_no": order_no, "reason": rules.clean_text(reason, "reason")})
    if opened.replay is not None:
        return opened.replay
    return _cancel(store, opened.session, opened.idem, order_no, opened.request["reason"],
                   actor, settings)


def customer_cancel(store: OrderStore, *, order_no: str, reason: object,
                    idempotency_key: str, settings: ActionSettings = DEFAULTS) -> dict:
    """The customer's own no-reason cancel from the widget: inside the window after paying,
    before delivery, refunded automatically.  Returns the same dict the API answers."""
    session = session_or_default(None)
    why = checked(lambda: rules.clean_text(reason, "reason", required=False))
    idem = Idempotency(session, f"{CUSTOMER}:{order_no}", idempotency_key, "customer_cancel",
                       {"order_no": order_no, "reason": why})
    replay = idem.replay()
    if replay is not None:
        return replay.body
    order = get_order(store, order_no)
    minutes = settings.cancel_window_minutes
    refuse_if(rules.refusal_to_cancel(order))
    if not rules.cancel_window_open(order, utcnow(), minutes):
        raise Refused("cancel_window_closed", _t(
            "Orders can be cancelled without a reason only within %(minutes)s minutes of "
            "paying; please ask an agent.", minutes=minutes))
    return _cancel(store, session, idem, order_no, why or _t("cancelled by the customer"),
                   None, settings, order=order).body


def _cancel(store: OrderStore, session: Session, idem: Idempotency, order_no: str, why: str,
            actor: User | None, settings: ActionSettings, order: Order | None = None) -> Outcome:
    """Cancel past the replay check (each caller answers a replay before this)."""
    if CAP_CANCEL not in store.capabilities:
        raise Refused("not_allowed", _t("This order store cannot cancel orders."))
    refuse_if(rules.refusal_to_cancel(order or get_order(store, order_no)))

    def write() -> Outcome:
        lock_order(session, order_no)
        order = get_order(store, order_no)
        refuse_if(rules.refusal_to_cancel(order))
        back = left_to_refund(session, order)
        pending = actor is not None and back > 0 and needs_approval(session, actor, back, settings)
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
            outcome = Outcome(Result.PENDING, answer(action, order, message))
            signal_action(outcome, outcome.body["action"], actor)
            return outcome
        kind = "cancel" if actor is not None else "customer_cancel"
        return execute_money(session, store, action, order, actor, kind=kind)

    return perform(session, idem, store_errors(write))
