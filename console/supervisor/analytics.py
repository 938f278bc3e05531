"""Order analytics for the shop: after-sales and refund rates by product and supplier, the
busiest hours, and the products customers open chats about most.

The store counts orders in SQL (``OrderAnalytics.order_stats``); its counts add up, so a
range is asked for piece by piece (console/supervisor/buckets.py) and whole days and hours
are kept for ``BUCKET_SECONDS``: a refund on an order of last week shows within minutes,
and a new range costs only its cut hours.  Which product an order is of never changes,
so that answer is kept for good (up to ``PRODUCT_NAMES`` orders).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.base import CAP_ANALYTICS, OrderStats, OrderStatsRow, OrderStore, analytics_of
from console.chat.models import Conversation, ConversationOrder
from console.supervisor.buckets import spans
from console.supervisor.recent import Recent, database_key
from console.supervisor.stats import rate

TOP_TICKETS = 20
CACHE_SECONDS = 60.0
BUCKET_SECONDS = 300.0
PRODUCT_NAMES = 500_000
_recent: Recent[dict] = Recent(CACHE_SECONDS)
_buckets: Recent[OrderStats] = Recent(BUCKET_SECONDS, entries=8192)
_product_names: dict[tuple[int, str], str] = {}


def _row(row: OrderStatsRow) -> dict:
    return {"key": row.key, "orders": row.orders, "after_sales": row.after_sales,
            "after_sales_rate": rate(row.after_sales, row.orders), "refunded": row.refunded,
            "refund_rate": rate(row.refunded, row.orders)}


def tickets_by_product(session: Session, store: OrderStore, start: datetime,
                       end: datetime) -> list[dict]:
    """Chats opened in [start, end) per product of the orders linked to them."""
    links = session.connection().execute(
        select(ConversationOrder.conversation_id, ConversationOrder.order_no)
        .join(Conversation, Conversation.id == ConversationOrder.conversation_id)
        .where(Conversation.opened_at >= start, Conversation.opened_at < end)).all()
    if not links:
        return []
    names = _products_of(store, {order_no for _, order_no in links})
    chats = Counter(name for _, name in {(cid, names[o]) for cid, o in links if o in names})
    return [{"key": name, "tickets": n} for name, n in chats.most_common(TOP_TICKETS)]


def _products_of(store: OrderStore, order_nos: set[str]) -> dict[str, str]:
    """order_no → product name, asking the store only about orders not seen before."""
    which = id(store)
    known = {o: _product_names[(which, o)] for o in order_nos if (which, o) in _product_names}
    missing = order_nos - known.keys()
    if missing:
        found = analytics_of(store).products_of(missing)
        if len(_product_names) + len(found) > PRODUCT_NAMES:
            _product_names.clear()
        _product_names.update(((which, o), name) for o, name in found.items())
        known.update(found)
    return known


def _add_rows(totals: dict[str, list[int]], rows: Iterable[OrderStatsRow]) -> None:
    for row in rows:
        counts = totals.setdefault(row.key, [0, 0, 0])
        counts[0] += row.orders
        counts[1] += row.after_sales
        counts[2] += row.refunded


def order_stats(store: OrderStore, start: datetime, end: datetime, zone: ZoneInfo,
                utc_offset_s: int) -> OrderStats:
    """The store's counts for [start, end), added up from its days and hours."""
    counted = analytics_of(store)
    key = (id(store), str(getattr(store, "url", "")), utc_offset_s)
    tables: tuple[dict[str, list[int]], ...] = ({}, {}, {})
    for span in spans(start.timestamp(), end.timestamp(), zone):
        begins = datetime.fromtimestamp(span.start, timezone.utc)
        ends = datetime.fromtimestamp(span.end, timezone.utc)
        def count(b: datetime = begins, e: datetime = ends) -> OrderStats:
            return counted.order_stats(b, e, utc_offset_s)
        stats = _buckets.get((*key, span.start, span.end), count) if span.whole else count()
        for table, found in zip(tables, (stats.by_product, stats.by_supplier,
                                         stats.by_hour), strict=True):
            _add_rows(table, found)
    return OrderStats(_sorted_rows(tables[0]), _sorted_rows(tables[1]),
                      _sorted_rows(tables[2], by_key=True))


def _sorted_rows(table: dict[str, list[int]], by_key: bool = False) -> tuple[OrderStatsRow, ...]:
    """As the store orders them: most orders first (hours: in order)."""
    items = [OrderStatsRow(key, *counts) for key, counts in table.items()]
    return tuple(sorted(items, key=(lambda r: r.key) if by_key else
                        (lambda r: (-r.orders, r.key))))


def shop_analytics(session: Session, store: OrderStore, start: datetime, end: datetime,
                   zone: ZoneInfo) -> dict:
    """Every table of the analytics panel, remembered for ``CACHE_SECONDS`` per range (it
    scans every order of the range; a minute-old answer is fine for planning)."""
    return _recent.get((id(store), str(getattr(store, "url", "")), database_key(session),
                        start, end, zone.key),
                       lambda: _compute(session, store, start, end, zone))


def _compute(session: Session, store: OrderStore, start: datetime, end: datetime,
             zone: ZoneInfo) -> dict:
    """``available`` False for stores that cannot count orders (the tables are then empty)."""
    answer: dict = {"from": start.isoformat(), "to": end.isoformat(),
                    "available": CAP_ANALYTICS in store.capabilities}
    if not answer["available"]:
        return dict(answer, products=[], suppliers=[], hours=[], tickets=[])
    offset = int((end.astimezone(zone).utcoffset() or timedelta(0)).total_seconds())
    stats = order_stats(store, start, end, zone, offset)
    return dict(answer, products=[_row(r) for r in stats.by_product],
                suppliers=[_row(r) for r in stats.by_supplier],
                hours=[_row(r) for r in stats.by_hour],
                tickets=tickets_by_product(session, store, start, end))
