"""What the watcher remembers between ticks, as pure logic: each recent order's status and
since when, which waiting orders fall due when, and the outage counts.

Fed with ``OrderChange`` values (from ``changed_since`` or a test's generated stream) and
asked with an explicit ``now``, so detection is tested without clocks or databases.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime

from adapters.base import OrderChange
from console.watching.outage import Outage, OutageDetector, OutageRule, keys_of
from console.watching.rules import FAILED_STATUSES, StuckRules


@dataclass
class Watched:
    order_no: str
    status: str
    since: datetime
    category: str | None
    supplier: str | None
    operator: str | None
    region: str | None
    threshold_s: int | None
    flagged: bool = False

    def as_alert(self) -> dict:
        return {"order_no": self.order_no, "status": self.status, "since": self.since,
                "threshold_s": self.threshold_s, "category": self.category,
                "supplier": self.supplier, "operator": self.operator, "region": self.region}


@dataclass
class Absorbed:
    watched: Watched
    cleared: bool  # it had been flagged stuck and has now moved on


class WatchState:
    def __init__(self, rules: StuckRules, outage_rule: OutageRule | None = None) -> None:
        self.rules = rules
        self.detector = OutageDetector(outage_rule or OutageRule())
        self.orders: dict[str, Watched] = {}
        self._due: list[tuple[float, str, float]] = []  # (deadline, order_no, since)

    def remember_alert(self, watched: Watched) -> None:
        """An alert from an earlier run, so its order's next change clears it."""
        watched.flagged = True
        self.orders[watched.order_no] = watched

    def absorb(self, change: OrderChange) -> Absorbed:
        """The order's latest state; its clock restarts only when the status changed."""
        previous = self.orders.get(change.order_no)
        same = previous is not None and previous.status == change.status
        category = change.category or (previous.category if previous else None)
        watched = Watched(
            change.order_no, change.status, previous.since if same and previous else change.at, category,
            change.supplier or (previous.supplier if previous else None),
            change.operator or (previous.operator if previous else None),
            change.region or (previous.region if previous else None),
            self.rules.threshold(category, change.status), flagged=bool(same and previous and previous.flagged))
        self.orders[change.order_no] = watched
        since = watched.since.timestamp()
        if watched.threshold_s is not None and not watched.flagged:
            heapq.heappush(self._due, (since + watched.threshold_s, watched.order_no, since))
        self.detector.observe(watched.order_no, since,
                              keys_of(watched.supplier, watched.operator, watched.region),
                              watched.flagged or watched.status in FAILED_STATUSES)
        return Absorbed(watched, cleared=bool(previous and previous.flagged and not same))

    def due(self, now: datetime) -> list[Watched]:
        """Orders that have just become stuck (each reported once per stay in a status)."""
        limit, found = now.timestamp(), []
        while self._due and self._due[0][0] <= limit:
            _, order_no, since = heapq.heappop(self._due)
            watched = self.orders.get(order_no)
            if watched is None or watched.flagged or watched.since.timestamp() != since:
                continue  # moved on meanwhile
            watched.flagged = True
            self.detector.mark_bad(order_no)
            found.append(watched)
        return found

    def outages(self, now: datetime) -> list[Outage]:
        return self.detector.outages(now.timestamp())

    def prune(self, now: datetime) -> None:
        """Forget settled orders older than the outage baseline; keep waiting and flagged."""
        oldest = now.timestamp() - self.detector.rule.span_s
        self.detector.prune(now.timestamp())
        for order_no in [o for o, w in self.orders.items()
                         if w.since.timestamp() < oldest and w.threshold_s is None
                         and not w.flagged]:
            del self.orders[order_no]
