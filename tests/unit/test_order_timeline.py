"""The order timeline: merge, sort, gaps, pending and failed steps, current step, stuck detection."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from adapters.base import Order, OrderEvent, Product
from console.orders.timeline import Timeline, build_timeline, format_duration, step_labels

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ev(minutes: float, kind: str, detail: str = "") -> OrderEvent:
    return OrderEvent(at=at(minutes), kind=kind, detail=detail)


def make_order(status: str = "processing", category: str = "phone_topup", paid: float | None = 1,
               events: tuple[OrderEvent, ...] = ()) -> Order:
    return Order(
        order_no="K1", status=status, created_at=T0,
        product=Product(sku="S1", name="移动话费100元", category=category),
        quantity=1, amount_paid=Decimal("98.50"),
        paid_at=at(paid) if paid is not None else None, events=events,
    )


def kinds(timeline: Timeline) -> list[str]:
    return [s.kind for s in timeline.steps]


def test_steps_are_sorted_by_time_whatever_the_event_order() -> None:
    order = make_order(events=(ev(3, "supplier_answered"), ev(2, "supplier_called")))
    t = build_timeline(order, now=at(4))
    assert kinds(t) == ["created", "paid", "supplier_called", "supplier_answered", "delivered"]
    happened = [s.at for s in t.steps if s.at is not None]
    assert happened == sorted(happened)


def test_durations_between_steps() -> None:
    order = make_order(events=(ev(2.5, "supplier_called"),))
    steps = build_timeline(order, now=at(3)).steps
    assert steps[0].since_previous is None
    assert steps[1].since_previous == timedelta(minutes=1)
    assert steps[2].since_previous == timedelta(minutes=1.5)
    assert steps[3].state == "pending" and steps[3].since_previous is None and steps[3].at is None


def test_created_and_paid_fields_and_events_appear_once() -> None:
    order = make_order(events=(
        ev(0, "created", "web"), ev(1.02, "paid", "alipay notify"), ev(1.02, "paid", "alipay notify"),
        ev(2, "supplier_called"), ev(2, "supplier_called"),
    ))
    t = build_timeline(order, now=at(3))
    assert kinds(t).count("created") == 1 and kinds(t).count("paid") == 1
    assert kinds(t).count("supplier_called") == 1
    paid = next(s for s in t.steps if s.kind == "paid")
    assert paid.at == at(1) and paid.detail == "alipay notify"  # the column's time, the event's detail
    assert next(s for s in t.steps if s.kind == "created").detail == "web"


def test_paid_event_used_when_the_column_is_empty() -> None:
    t = build_timeline(make_order(paid=None, events=(ev(2, "paid"),)), now=at(3))
    assert kinds(t)[:2] == ["created", "paid"] and t.steps[1].at == at(2)


def test_same_instant_keeps_the_natural_order() -> None:
    order = make_order(paid=0, events=(ev(0, "delivered"), ev(0, "paid"), ev(0, "created")), status="delivered")
    assert kinds(build_timeline(order, now=at(1))) == ["created", "paid", "delivered"]


def test_paid_processing_topup_shows_delivery_pending() -> None:
    t = build_timeline(make_order(status="processing"), now=at(2))
    last = t.steps[-1]
    assert last.kind == "delivered" and last.state == "pending"
    assert last.label("en") == "Top-up credited" and last.label("zh_CN") == "充值已到账"


def test_unpaid_order_shows_payment_and_delivery_pending() -> None:
    t = build_timeline(make_order(status="pending_payment", category="game_card", paid=None), now=at(1))
    assert [(s.kind, s.state) for s in t.steps] == [
        ("created", "current"), ("paid", "pending"), ("delivered", "pending"),
    ]
    assert t.steps[-1].label("zh") == "卡密已发放"


def test_failures_and_retries_are_marked_failed() -> None:
    order = make_order(status="processing", events=(
        ev(2, "supplier_called"), ev(5, "failed", "operator busy"), ev(6, "retry"), ev(7, "supplier_called"),
    ))
    t = build_timeline(order, now=at(8))
    states = {(s.kind, s.at): s.state for s in t.steps}
    assert states[("failed", at(5))] == "failed" and states[("retry", at(6))] == "failed"
    assert t.steps[t.current_index].at == at(7) and t.steps[t.current_index].state == "current"


def test_failure_as_last_step_stays_failed_but_is_current() -> None:
    order = make_order(status="processing", events=(ev(2, "supplier_called"), ev(3, "failed")))
    t = build_timeline(order, now=at(4))
    assert t.current is not None and t.current.kind == "failed" and t.current.state == "failed"


def test_current_step_is_the_last_happened_step_ignoring_notes() -> None:
    order = make_order(status="processing", events=(ev(2, "supplier_called"), ev(3, "note", "customer asked")))
    t = build_timeline(order, now=at(4))
    assert t.current is not None and t.current.kind == "supplier_called"
    assert [s.state for s in t.steps].count("current") == 1
    assert next(s for s in t.steps if s.kind == "note").state == "done"


@pytest.mark.parametrize("status", ["delivered", "completed", "failed", "refunded", "cancelled", "expired"])
def test_final_orders_highlight_nothing_and_are_never_stuck(status: str) -> None:
    order = make_order(status=status, events=(ev(2, "delivered"),))
    t = build_timeline(order, now=at(60 * 24 * 30))
    assert t.current_index is None and "current" not in {s.state for s in t.steps}
    assert not t.stuck and t.idle_for is None
    assert "pending" not in {s.state for s in t.steps}


def test_stuck_after_the_expected_wait_for_the_category() -> None:
    order = make_order(status="processing", category="phone_topup", events=(ev(2, "supplier_called"),))
    fresh = build_timeline(order, now=at(2 + 9))
    late = build_timeline(order, now=at(2 + 11))
    assert not fresh.stuck and late.stuck
    assert late.idle_for == timedelta(minutes=11) and late.expected_wait_minutes == 10


def test_stuck_depends_on_category_wait() -> None:
    topup = make_order(status="processing", category="game_topup", events=(ev(2, "supplier_called"),))
    card = make_order(status="processing", category="game_card", events=(ev(2, "supplier_called"),))
    assert not build_timeline(topup, now=at(22)).stuck   # game top-ups take up to 30 min
    assert build_timeline(card, now=at(22)).stuck         # card keys are issued within 5 min


def test_a_note_does_not_reset_the_stuck_clock() -> None:
    order = make_order(status="processing", events=(ev(2, "supplier_called"), ev(20, "note", "chased")))
    assert build_timeline(order, now=at(21)).stuck


def test_after_sales_has_a_pending_resolution_and_a_day_to_act() -> None:
    order = make_order(status="after_sales", events=(ev(2, "delivered"), ev(60, "after_sales", "key invalid")))
    assert build_timeline(order, now=at(60 * 10)).stuck is False
    t = build_timeline(order, now=at(60 + 24 * 60 + 1))
    assert t.stuck and t.steps[-1].kind == "resolved" and t.steps[-1].state == "pending"


def test_unknown_event_kinds_get_a_readable_label() -> None:
    order = make_order(events=(ev(2, "supplier_timeout", "no answer in 60 s"),))
    step = next(s for s in build_timeline(order, now=at(3)).steps if s.kind == "supplier_timeout")
    assert step.label("en") == "Supplier timeout" and step.detail == "no answer in 60 s"


@pytest.mark.parametrize("kind", [
    "created", "paid", "key_generated", "supplier_called", "supplier_answered", "delivered", "retry",
    "failed", "refunded", "partially_refunded", "cancelled", "after_sales", "note", "edit_applied",
    "reissued", "voided",
])
def test_known_kinds_have_both_labels(kind: str) -> None:
    en, zh = step_labels(kind, "gift_card")
    assert en.isascii() and any("\u4e00" <= ch <= "\u9fff" for ch in zh)


def test_naive_times_are_read_as_utc_and_unknown_status_does_not_raise() -> None:
    order = make_order(status="on_hold", events=(OrderEvent(at=datetime(2024, 5, 1, 12, 5), kind="note"),))
    t = build_timeline(order, now=datetime(2024, 5, 1, 13, 0))
    assert kinds(t) == ["created", "paid", "note"] and not t.stuck and t.current is not None


@pytest.mark.parametrize("td,en,zh", [
    (timedelta(minutes=3, seconds=20), "3 min 20 s", "3分20秒"),
    (timedelta(hours=2, minutes=5, seconds=59), "2 h 5 min", "2小时5分"),
    (timedelta(days=1, hours=3, minutes=40), "1 d 3 h", "1天3小时"),
    (timedelta(seconds=45), "45 s", "45秒"),
    (timedelta(0), "0 s", "0秒"),
    (timedelta(minutes=3), "3 min", "3分钟"),
    (timedelta(hours=2), "2 h", "2小时"),
    (timedelta(days=2, minutes=5), "2 d", "2天"),
    (timedelta(seconds=-90), "-1 min 30 s", "-1分30秒"),
])
def test_format_duration(td: timedelta, en: str, zh: str) -> None:
    assert format_duration(td, "en") == en
    assert format_duration(td, "zh_CN") == zh
    assert format_duration(td, "zh-CN") == zh
