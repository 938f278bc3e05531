"""Payment-proof checks: each mismatch warns once, a consistent order warns about nothing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from adapters.base import Order, PaymentProof, Product
from console.orders.proof_check import ProofWarning, check_proof

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
PAID_AT = T0 + timedelta(minutes=2)


def proof(**changes: object) -> PaymentProof:
    base = dict(channel="alipay", transaction_id="2024050122001400001", payer="138****5678",
                amount=Decimal("98.50"), paid_at=PAID_AT + timedelta(seconds=5))
    base.update(changes)
    return PaymentProof(**base)  # type: ignore[arg-type]


def make_order(status: str = "delivered", payment: PaymentProof | None = None, paid_at: datetime | None = PAID_AT,
               amount: str = "98.50") -> Order:
    return Order(
        order_no="K1", status=status, created_at=T0,
        product=Product(sku="Q100", name="腾讯Q币100元卡密", category="game_card"),
        quantity=1, amount_paid=Decimal(amount), paid_at=paid_at,
        payment=payment if payment is not None else proof(),
    )


def codes(warnings: list[ProofWarning]) -> list[str]:
    return [w.code for w in warnings]


def test_consistent_order_has_no_warnings() -> None:
    assert check_proof(make_order()) == []


@pytest.mark.parametrize("status", ["paid", "processing", "delivered", "completed", "failed", "after_sales",
                                    "refunded", "partially_refunded"])
def test_payment_missing_when_status_implies_paid(status: str) -> None:
    order = make_order(status=status).replace(payment=None)
    assert codes(check_proof(order)) == ["payment_missing"]


@pytest.mark.parametrize("status", ["pending_payment", "expired", "cancelled"])
def test_no_payment_is_fine_when_unpaid(status: str) -> None:
    assert check_proof(make_order(status=status, paid_at=None).replace(payment=None)) == []


def test_payment_missing_when_paid_at_is_set_whatever_the_status() -> None:
    assert codes(check_proof(make_order(status="cancelled").replace(payment=None))) == ["payment_missing"]


def test_amount_mismatch_is_a_decimal_comparison() -> None:
    assert check_proof(make_order(payment=proof(amount=Decimal("98.5")))) == []
    warnings = check_proof(make_order(payment=proof(amount=Decimal("98.00"))))
    assert codes(warnings) == ["amount_mismatch"]
    assert "98.00" in warnings[0].message_en and "98.50" in warnings[0].message_zh


def test_missing_proof_amount_is_not_a_mismatch() -> None:
    assert check_proof(make_order(payment=proof(amount=None))) == []


def test_paid_before_order_creation() -> None:
    warnings = check_proof(make_order(payment=proof(paid_at=T0 - timedelta(minutes=5))))
    assert codes(warnings) == ["paid_before_order"]
    assert "5 min" in warnings[0].message("en") and "5分钟" in warnings[0].message("zh")


def test_paid_too_long_after_the_order_was_paid() -> None:
    late = proof(paid_at=PAID_AT + timedelta(minutes=31))
    assert codes(check_proof(make_order(payment=late))) == ["paid_long_after"]
    assert check_proof(make_order(payment=proof(paid_at=PAID_AT + timedelta(minutes=29)))) == []


def test_tolerance_is_configurable() -> None:
    late = make_order(payment=proof(paid_at=PAID_AT + timedelta(minutes=10)))
    assert check_proof(late, tolerance_minutes=30) == []
    assert codes(check_proof(late, tolerance_minutes=5)) == ["paid_long_after"]


def test_transaction_id_missing() -> None:
    for blank in (None, "", "   "):
        assert codes(check_proof(make_order(payment=proof(transaction_id=blank)))) == ["transaction_id_missing"]


def test_payment_on_an_unpaid_order_is_a_lost_notice() -> None:
    warnings = check_proof(make_order(status="expired", paid_at=None))
    assert codes(warnings) == ["payment_on_unpaid_order"]
    assert "掉单" in warnings[0].message_zh


def test_channel_only_record_on_an_unpaid_order_is_not_a_payment() -> None:
    bare = PaymentProof(channel="wxpay")
    assert check_proof(make_order(status="pending_payment", paid_at=None, payment=bare)) == []


def test_several_problems_are_all_reported() -> None:
    bad = proof(transaction_id=None, amount=Decimal("1.00"), paid_at=T0 - timedelta(hours=1))
    assert codes(check_proof(make_order(payment=bad))) == [
        "transaction_id_missing", "amount_mismatch", "paid_before_order",
    ]


def test_every_warning_speaks_both_languages() -> None:
    orders = [
        make_order().replace(payment=None),
        make_order(status="expired", paid_at=None),
        make_order(payment=proof(transaction_id=None, amount=Decimal("1.00"), paid_at=T0 - timedelta(hours=1))),
        make_order(payment=proof(paid_at=PAID_AT + timedelta(hours=2))),
    ]
    warnings = [w for order in orders for w in check_proof(order)]
    assert len({w.code for w in warnings}) == 6
    for w in warnings:
        assert w.message_en.isascii() and w.message("en") == w.message_en
        assert any("\u4e00" <= ch <= "\u9fff" for ch in w.message_zh) and w.message("zh_CN") == w.message_zh


def test_naive_proof_time_is_read_as_utc() -> None:
    naive = proof(paid_at=datetime(2024, 5, 1, 12, 2, 30))
    assert check_proof(make_order(payment=naive)) == []
