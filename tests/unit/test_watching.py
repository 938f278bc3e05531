"""Stuck orders and outages on generated order streams (pure logic, explicit clocks)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from adapters.base import OrderChange
from console.watching.outage import OutageRule
from console.watching.rules import StuckRules, parse_thresholds
from console.watching.state import WatchState

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def change(no: str, status: str, minutes: float, category: str = "phone_topup",
           supplier: str = "云速充", operator: str | None = "中国移动",
           region: str | None = "广东") -> OrderChange:
    return OrderChange(no, status, at(minutes), category, supplier, operator, region)


# --- stuck orders -----------------------------------------------------------------------

def test_thresholds_per_category_with_overrides():
    rules = StuckRules.from_text("phone_topup:processing=20m, *:after_sales=2h")
    assert rules.threshold("phone_topup", "processing") == 20 * 60
    assert rules.threshold("game_card", "paid") == 5 * 60        # a key should be instant
    assert rules.threshold("phone_topup", "paid") == 10 * 60     # the "*" rule
    assert rules.threshold("gift_card", "after_sales") == 2 * 3600
    assert rules.threshold("game_card", "delivered") is None
    for bad in ("phone_topup:processing", "moon:paid=5m", "*:paid=soon"):
        with pytest.raises(ValueError):
            parse_thresholds(bad)


def test_a_top_up_processing_past_15_minutes_is_flagged_once_and_cleared_when_it_moves():
    state = WatchState(StuckRules.from_text(None))
    state.absorb(change("A", "paid", 0))
    state.absorb(change("A", "processing", 1))
    state.absorb(change("A", "processing", 5))   # touched again: the clock does not restart
    assert state.due(at(15.9)) == []
    flagged = state.due(at(16.1))
    assert [(w.order_no, w.status, w.since, w.threshold_s) for w in flagged] == \
        [("A", "processing", at(1), 900)]
    assert state.due(at(60)) == []               # reported once
    assert state.absorb(change("A", "delivered", 61)).cleared is True


def test_a_card_key_paid_but_not_delivered_after_5_minutes():
    state = WatchState(StuckRules.from_text(None))
    state.absorb(change("K1", "paid", 0, category="game_card"))
    state.absorb(change("K2", "paid", 0, category="game_card"))
    state.absorb(change("K2", "delivered", 1, category="game_card"))
    assert [w.order_no for w in state.due(at(5.1))] == ["K1"]


def test_a_status_change_restarts_the_clock():
    state = WatchState(StuckRules.from_text(None))
    state.absorb(change("B", "processing", 0))
    state.absorb(change("B", "paid", 10))        # sent back to be retried
    state.absorb(change("B", "processing", 12))
    assert state.due(at(26)) == []               # 14 minutes since it re-entered processing
    assert [w.order_no for w in state.due(at(27.5))] == ["B"]


# --- outages ----------------------------------------------------------------------------

def orders(rng: random.Random, first: float, last: float, per_hour: float, supplier: str,
           fail: float, stuck: float = 0.0, operator: str = "中国联通", region: str = "浙江",
           prefix: str = "") -> list[OrderChange]:
    """Top-ups arriving at random (Poisson) between two minutes: most are delivered a minute
    or two later, some fail, some stay processing for good."""
    out, t, n = [], first, 0
    while True:
        t += rng.expovariate(per_hour / 60)
        if t >= last:
            return out
        n += 1
        no = f"{prefix}{supplier}-{n}"
        kw = {"supplier": supplier, "operator": operator, "region": region}
        out.append(change(no, "processing", t, **kw))
        roll = rng.random()
        if roll < stuck:
            continue
        outcome = "failed" if roll < stuck + fail else "delivered"
        out.append(change(no, outcome, t + rng.uniform(1, 3), **kw))


def simulate(stream: list[OrderChange], end: float, tick: float = 1.0,
             rule: OutageRule | None = None) -> list[tuple[float, list]]:
    """Feed the stream in time order, ticking every minute; the outages seen at each tick."""
    state = WatchState(StuckRules.from_text(None), rule)
    stream = sorted(stream, key=lambda c: c.at)
    seen, i, minute = [], 0, 0.0
    while minute <= end:
        while i < len(stream) and stream[i].at <= at(minute):
            state.absorb(stream[i])
            i += 1
        state.due(at(minute))
        found = state.outages(at(minute))
        if found:
            seen.append((minute, found))
        state.prune(at(minute))
        minute += tick
    return seen


def test_a_supplier_outage_is_raised_within_its_first_half_hour():
    rng = random.Random(1)
    day = 8 * 60
    stream = []
    for supplier in ("云速充", "星河直充", "蓝鲸卡券"):
        stream += orders(rng, 0, day, 40, supplier, fail=0.03)
    # from 7:00, 快鸟充值's top-ups stop arriving: 60% stay processing, 15% fail
    stream += orders(rng, 0, 7 * 60, 40, "快鸟充值", fail=0.03)
    stream += orders(rng, 7 * 60, day, 40, "快鸟充值", fail=0.15, stuck=0.6, prefix="x")
    seen = simulate(stream, day)
    assert seen, "the outage was not raised"
    first_minute, found = seen[0]
    assert 7 * 60 < first_minute <= 7 * 60 + 30
    assert {(o.dimension, o.value) for _, f in seen for o in f} == {("supplier", "快鸟充值")}
    outage = found[0]
    assert outage.bad >= 5 and outage.share >= 0.3 and outage.baseline < 0.1
    assert all(no.startswith("x") for no in outage.orders)


def test_no_false_alarm_on_a_quiet_night():
    rng = random.Random(2)
    stream = []
    for supplier in ("云速充", "星河直充"):
        stream += orders(rng, 0, 8 * 60, 3, supplier, fail=0.25)  # few orders, many fail
    # and at 3 a.m. two of the three orders in half an hour fail
    stream += [change("n1", "failed", 180), change("n2", "failed", 185),
               change("n3", "delivered", 190)]
    assert simulate(stream, 8 * 60) == []


def test_a_supplier_that_always_fails_often_is_its_normal_level():
    rng = random.Random(3)
    stream = orders(rng, 0, 8 * 60, 60, "GiftHub API", fail=0.4)
    assert simulate(stream, 8 * 60) == []


def test_operator_in_one_region_is_one_incident_not_three():
    rng = random.Random(4)
    stream = []
    for supplier in ("云速充", "星河直充", "蓝鲸卡券"):
        for region in ("广东", "浙江", "江苏"):
            stream += orders(rng, 0, 6 * 60, 15, supplier, fail=0.02, operator="中国移动",
                             region=region, prefix=region)
            stream += orders(rng, 6 * 60, 7 * 60, 15, supplier,
                             fail=0.1 if region == "广东" else 0.02,
                             stuck=0.7 if region == "广东" else 0.0, operator="中国移动",
                             region=region, prefix=f"late{region}")
    seen = simulate(stream, 7 * 60)
    keys = {(o.dimension, o.value) for _, f in seen for o in f}
    assert len(keys) == 1 and keys & {("region", "广东"), ("operator_region", "中国移动 · 广东")}
