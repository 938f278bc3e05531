"""Spotting a supplier, operator or region that suddenly fails: pure logic, no I/O.

Every watched order is counted in a five-minute bucket (by when it entered its current
status) under each of its keys: its supplier, its operator, its region, and operator+region
(中国移动 in 广东).  An order is *bad* when it failed or is stuck.  For each key, the last
``window_s`` (default 30 minutes) is compared with the ``baseline_windows`` windows before
it (default 12, so six hours).  An outage is raised when all of these hold:

- enough evidence now: at least ``min_orders`` orders and ``min_bad`` bad ones in the
  window (a quiet night with three orders and one failure is not an outage);
- a high share: bad/total ≥ ``min_share`` (30%);
- a known normal level: at least ``min_baseline`` (20) orders in the baseline windows;
- a jump: the share is at least ``factor`` (3×) the baseline share and ``z_min`` (3)
  standard errors above it.  The baseline is smoothed towards 5% with 20 pseudo-orders,
  so a thin history is judged partly against a typical shop, and a supplier that always
  fails a lot does not alarm every half hour.

When several keys describe one outage (a supplier serving mostly 广东 would flag both),
the strongest is kept, and a new key is dropped while most of its bad orders also carry a
key raised in the last window: they are that outage's orders.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

DIMENSIONS = ("supplier", "operator", "region", "operator_region")
PRIOR_SHARE, PRIOR_ORDERS = 0.05, 20
OVERLAP_DROP = 0.7

Key = tuple[str, str]  # (dimension, value)


@dataclass(frozen=True)
class OutageRule:
    window_s: int = 30 * 60
    baseline_windows: int = 12
    bucket_s: int = 5 * 60
    min_orders: int = 8
    min_bad: int = 5
    min_baseline: int = 20
    min_share: float = 0.3
    factor: float = 3.0
    z_min: float = 3.0

    @property
    def span_s(self) -> int:
        return self.window_s * (self.baseline_windows + 1)


@dataclass(frozen=True)
class Outage:
    dimension: str
    value: str
    total: int
    bad: int
    share: float
    baseline: float
    z: float
    orders: tuple[str, ...]  # the bad orders in the window

    @property
    def key(self) -> Key:
        return (self.dimension, self.value)


def keys_of(supplier: str | None, operator: str | None, region: str | None) -> tuple[Key, ...]:
    keys = []
    if supplier:
        keys.append(("supplier", supplier))
    if operator:
        keys.append(("operator", operator))
    if region:
        keys.append(("region", region))
    if operator and region:
        keys.append(("operator_region", f"{operator} · {region}"))
    return tuple(keys)


@dataclass
class _Seen:
    bucket: int
    keys: tuple[Key, ...]
    bad: bool


@dataclass
class OutageDetector:
    """Counts kept incrementally, so each order change costs a few dictionary updates."""

    rule: OutageRule = field(default_factory=OutageRule)
    counts: dict[int, dict[Key, list[int]]] = field(default_factory=lambda: defaultdict(dict))
    seen: dict[str, _Seen] = field(default_factory=dict)
    raised: dict[Key, float] = field(default_factory=dict)  # key → last reported

    def _bucket(self, at: float) -> int:
        return int(at // self.rule.bucket_s)

    def _count(self, seen: _Seen, sign: int) -> None:
        bucket = self.counts[seen.bucket]
        for key in seen.keys:
            pair = bucket.setdefault(key, [0, 0])
            pair[0] += sign
            pair[1] += sign * seen.bad

    def observe(self, order_no: str, at: float, keys: tuple[Key, ...], bad: bool) -> None:
        """The order's latest state: entered its status at ``at`` (epoch seconds)."""
        old = self.seen.pop(order_no, None)
        if old is not None:
            self._count(old, -1)
        if keys:
            new = _Seen(self._bucket(at), keys, bad)
            self.seen[order_no] = new
            self._count(new, +1)

    def mark_bad(self, order_no: str) -> None:
        """An order that was waiting became stuck."""
        seen = self.seen.get(order_no)
        if seen is not None and not seen.bad:
            self._count(seen, -1)
            seen.bad = True
            self._count(seen, +1)

    def prune(self, now: float) -> None:
        """Forget buckets older than the window plus its baseline."""
        oldest = self._bucket(now - self.rule.span_s)
        for bucket in [b for b in self.counts if b < oldest]:
            del self.counts[bucket]
        for order_no in [o for o, s in self.seen.items() if s.bucket < oldest]:
            del self.seen[order_no]
        for key in [k for k, last in self.raised.items() if last < now - self.rule.window_s]:
            del self.raised[key]

    def _sums(self, first: int, last: int) -> dict[Key, list[int]]:
        sums: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
        for bucket in range(first, last + 1):
            for key, (total, bad) in self.counts.get(bucket, {}).items():
                pair = sums[key]
                pair[0] += total
                pair[1] += bad
        return sums

    def outages(self, now: float) -> list[Outage]:
        """Keys whose bad share jumped in the last window, strongest first."""
        rule = self.rule
        last = self._bucket(now)
        window_buckets = max(1, rule.window_s // rule.bucket_s)
        first = last - window_buckets + 1
        current = self._sums(first, last)
        baseline = self._sums(first - window_buckets * rule.baseline_windows, first - 1)
        found = []
        for key, (total, bad) in current.items():
            if total < rule.min_orders or bad < rule.min_bad:
                continue
            share = bad / total
            base_total, base_bad = baseline.get(key, (0, 0))
            if base_total < rule.min_baseline:
                continue  # no normal level to jump from yet
            p0 = (base_bad + PRIOR_SHARE * PRIOR_ORDERS) / (base_total + PRIOR_ORDERS)
            z = (share - p0) / math.sqrt(p0 * (1 - p0) / total)
            if share >= rule.min_share and share >= rule.factor * p0 and z >= rule.z_min:
                orders = tuple(sorted(o for o, s in self.seen.items()
                                      if s.bad and first <= s.bucket <= last and key in s.keys))
                found.append(Outage(key[0], key[1], total, bad, round(share, 4), round(p0, 4),
                                    round(z, 2), orders))
        ranked = sorted(found, key=lambda o: (o.key not in self.raised, -o.z, o.dimension,
                                              o.value))
        kept: list[Outage] = []
        covered: set[str] = set()
        for outage in ranked:
            mine = set(outage.orders)
            if outage.key not in self.raised and mine:
                explained = {o for o in mine if o in covered
                             or any(k in self.raised for k in self.seen[o].keys)}
                if len(explained) / len(mine) >= OVERLAP_DROP:
                    continue  # mostly the orders of a stronger or an earlier outage
            kept.append(outage)
            covered |= mine
        for outage in kept:
            self.raised[outage.key] = now
        return kept

