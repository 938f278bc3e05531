"""Order analytics on the reference schema: one grouped scan of the date range.

The scan walks ``ix_orders_created``; counting per (product, supplier, hour) in SQL and
folding the few thousand groups in Python gives all three tables from one pass.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Integer, case, cast, exists, func, literal_column, select
from sqlalchemy.engine import Engine

from adapters.base import OrderStats, OrderStatsRow
from adapters.sql.schema import order_events, orders, products

REFUNDED = ("refunded", "partially_refunded")
CHUNK = 900  # under SQLite's 999 bound parameters


def _local_hour(engine: Engine, utc_offset_s: int):
    if engine.dialect.name == "sqlite":
        return cast(func.strftime("%H", orders.c.created_at,
                                  literal_column(f"'{int(utc_offset_s):+d} seconds'")), Integer)
    return cast(func.extract("hour", orders.c.created_at
                             + func.make_interval(0, 0, 0, 0, 0, 0, int(utc_offset_s))), Integer)


def order_stats(engine: Engine, start: datetime, end: datetime, utc_offset_s: int) -> OrderStats:
    """Paid orders created in [start, end) by product, supplier and local hour."""
    had_after_sales = exists().where(order_events.c.order_id == orders.c.id,
                                     order_events.c.kind == "after_sales")
    hour = _local_hour(engine, utc_offset_s).label("hour")
    query = (select(products.c.name, orders.c.supplier, hour, func.count().label("n"),
                    func.sum(case((had_after_sales, 1), else_=0)).label("after_sales"),
                    func.sum(case((orders.c.refunded_cents > 0, 1),
                                  (orders.c.status.in_(REFUNDED), 1), else_=0)).label("refunded"))
             .join(products, products.c.id == orders.c.product_id)
             .where(orders.c.created_at >= start, orders.c.created_at < end,
                    orders.c.paid_at.is_not(None))
             .group_by(products.c.name, orders.c.supplier, hour))
    totals: dict[str, dict[str, list[int]]] = {
        name: defaultdict(lambda: [0, 0, 0]) for name in ("product", "supplier", "hour")}
    with engine.connect() as conn:
        for name, supplier, at_hour, n, after, refunded in conn.execute(query):
            for table, key in (("product", name), ("supplier", supplier or "-"),
                               ("hour", f"{int(at_hour or 0):02d}")):
                row = totals[table][key]
                row[0] += n
                row[1] += after or 0
                row[2] += refunded or 0

    def rows(table: str, by_key: bool = False) -> tuple[OrderStatsRow, ...]:
        items = [OrderStatsRow(k, *v) for k, v in totals[table].items()]
        return tuple(sorted(items, key=(lambda r: r.key) if by_key else
                            (lambda r: (-r.orders, r.key))))

    return OrderStats(rows("product"), rows("supplier"), rows("hour", by_key=True))


def products_of(engine: Engine, order_nos: Iterable[str]) -> dict[str, str]:
    """order_no → product name, in chunks so the IN list stays short."""
    wanted, found = list(dict.fromkeys(order_nos)), dict[str, str]()
    with engine.connect() as conn:
        for i in range(0, len(wanted), CHUNK):
            found.update(conn.execute(
                select(orders.c.order_no, products.c.name)
                .join(products, products.c.id == orders.c.product_id)
                .where(orders.c.order_no.in_(wanted[i:i + CHUNK]))).all())
    return found
