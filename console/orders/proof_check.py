"""Checks between an order and its payment proof, shown to the agent before a refund or reissue.

Each warning is a hint to look closer, not a verdict: "I paid but got nothing" tickets are
settled by comparing the customer's receipt with what the store recorded, and these are the
mismatches that matter in practice (lost payment notices, wrong amounts, a receipt from
another order).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from adapters.base import Order, PaymentProof, money

from .explain import EN, normalise_lang
from .timeline import format_duration

# Statuses that can only be reached after the customer paid.
PAID_STATUSES: frozenset[str] = frozenset({
    "paid", "processing", "delivered", "completed", "failed", "after_sales",
    "refunded", "partially_refunded",
})
# Statuses that say the customer never paid; a real proof on them means a lost payment notice.
UNPAID_STATUSES: frozenset[str] = frozenset({"pending_payment", "expired"})

PAYMENT_MISSING = "payment_missing"
PAYMENT_ON_UNPAID_ORDER = "payment_on_unpaid_order"
AMOUNT_MISMATCH = "amount_mismatch"
PAID_BEFORE_ORDER = "paid_before_order"
PAID_LONG_AFTER = "paid_long_after"
TRANSACTION_ID_MISSING = "transaction_id_missing"


@dataclass(frozen=True)
class ProofWarning:
    """One mismatch between order and proof; ``code`` is stable for the API, messages are for people."""

    code: str
    message_en: str
    message_zh: str

    def message(self, lang: str) -> str:
        return self.message_en if normalise_lang(lang) == EN else self.message_zh


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _money_or_none(value: object) -> Decimal | None:
    try:
        return money(value)
    except (InvalidOperation, ValueError, TypeError):
        return None


def _implies_paid(order: Order) -> bool:
    return order.status in PAID_STATUSES or order.paid_at is not None


def _has_evidence(proof: PaymentProof) -> bool:
    """A proof with no transaction id and no time may be just the chosen channel, not a payment."""
    return bool((proof.transaction_id or "").strip()) or proof.paid_at is not None


def _missing(order: Order) -> list[ProofWarning]:
    if not _implies_paid(order):
        return []
    return [ProofWarning(
        PAYMENT_MISSING,
        f"The order says it was paid (status {order.status}) but the store has no payment record. "
        "Ask the customer for the payment receipt before acting.",
        f"订单显示已付款（状态：{order.status}），但系统中没有支付记录。请先向客户索取支付凭证再处理。",
    )]


def _on_unpaid(order: Order) -> list[ProofWarning]:
    return [ProofWarning(
        PAYMENT_ON_UNPAID_ORDER,
        f"There is a payment record on an unpaid order (status {order.status}): the payment notice was "
        "probably lost or arrived after the order closed. Deliver or refund by hand.",
        f"订单未付款（状态：{order.status}），却有支付记录：可能是支付通知丢失，或订单关闭后才到账（掉单）。"
        "请人工补单发货或退款。",
    )]


def _transaction_id(proof: PaymentProof) -> list[ProofWarning]:
    if (proof.transaction_id or "").strip():
        return []
    return [ProofWarning(
        TRANSACTION_ID_MISSING,
        f"The payment record has no transaction number, so it cannot be matched with the {proof.channel} "
        "bill. Ask the customer for a receipt showing it.",
        f"支付记录缺少交易单号，无法与{proof.channel}账单核对。请客户提供带交易单号的支付凭证。",
    )]


def _amount(order: Order, proof: PaymentProof) -> list[ProofWarning]:
    if proof.amount is None:
        return []
    paid, proved = _money_or_none(order.amount_paid), _money_or_none(proof.amount)
    if paid is None or proved is None or paid == proved:
        return []
    return [ProofWarning(
        AMOUNT_MISMATCH,
        f"The payment record shows {proved} {order.currency} but the order was paid {paid} {order.currency}.",
        f"支付记录金额为 {proved} {order.currency}，与订单实付金额 {paid} {order.currency} 不一致。",
    )]


def _times(order: Order, proof: PaymentProof, tolerance: timedelta) -> list[ProofWarning]:
    if proof.paid_at is None:
        return []
    proved = _aware(proof.paid_at)
    warnings: list[ProofWarning] = []
    created = _aware(order.created_at)
    if proved < created:
        gap_en = format_duration(created - proved, EN)
        gap_zh = format_duration(created - proved, "zh_CN")
        warnings.append(ProofWarning(
            PAID_BEFORE_ORDER,
            f"The payment time is {gap_en} before the order was created: the receipt may belong to "
            "another order.",
            f"付款时间比下单时间早{gap_zh}：该凭证可能属于其他订单。",
        ))
    if order.paid_at is not None and proved > _aware(order.paid_at) + tolerance:
        gap = proved - _aware(order.paid_at)
        limit_en, limit_zh = format_duration(tolerance, EN), format_duration(tolerance, "zh_CN")
        warnings.append(ProofWarning(
            PAID_LONG_AFTER,
            f"The payment time is {format_duration(gap, EN)} after the order's payment time "
            f"(more than {limit_en}): the receipt may belong to another order or a second payment.",
            f"凭证付款时间比订单付款时间晚{format_duration(gap, 'zh_CN')}（超过{limit_zh}）："
            "该凭证可能属于其他订单或是重复付款。",
        ))
    return warnings


def check_proof(order: Order, tolerance_minutes: int = 30) -> list[ProofWarning]:
    """What about the order's payment proof an agent should double-check; empty when consistent."""
    proof = order.payment
    if proof is None:
        return _missing(order)
    if order.status in UNPAID_STATUSES:
        return _on_unpaid(order) if _has_evidence(proof) else []
    return [
        *_transaction_id(proof),
        *_amount(order, proof),
        *_times(order, proof, timedelta(minutes=tolerance_minutes)),
    ]
