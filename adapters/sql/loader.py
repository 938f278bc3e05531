"""Bulk loading of orders into the reference store.

Loads go in batches of a few thousand orders, each batch one transaction.  Rows
are written with the driver's own ``executemany`` (SQLite) or ``COPY``
(PostgreSQL) from plain tuples, never through per-value ORM conversions, and new
orders get their ids here rather than being read back.  A load into a store that
has no orders yet drops the secondary indexes first and builds them once at the
end, which is several times faster than keeping them up to date row by row.

A re-run upserts by order number: the order row is updated and its payment,
events, tags and delivered keys are replaced, so loading the same file twice
changes nothing.  Memory stays flat: a batch at a time, and the buyer id cache is
bounded.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timezone
from itertools import islice
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.engine import Connection, Engine

from adapters.base import Order, Product
from adapters.sql.rows import buyer_identity, to_cents
from adapters.sql.schema import (
    buyers,
    card_keys,
    order_events,
    order_tags,
    orders,
    payments,
    products,
)

BATCH = 5000
BUYER_CACHE = 200_000  # buyer ids remembered across batches (repeat buyers come back soon)
BULK_TABLES = (orders, buyers, payments, card_keys, order_events, order_tags)
UTC = timezone.utc

ORDER_COLUMNS = ("id", "order_no", "product_id", "buyer_id", "status", "quantity",
                 "face_value_cents", "amount_cents", "discount_cents", "refunded_cents",
                 "currency", "recipient_account", "buyer_ip", "region", "operator", "supplier",
                 "remark", "search_password", "created_at", "paid_at", "updated_at")
BUYER_COLUMNS = ("id", "identity", "account", "phone", "phone_tail", "email")
PAYMENT_COLUMNS = ("order_id", "channel", "transaction_id", "payer", "amount_cents", "paid_at",
                   "proof_url")
EVENT_COLUMNS = ("order_id", "at", "kind", "detail")
TAG_COLUMNS = ("order_id", "tag")
KEY_COLUMNS = ("product_id", "order_id", "serial", "secret", "status", "delivered_at")


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _sqlite_time(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DateTime writes (UTC, always with microseconds)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the order store")
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _pg_time(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetime given to the order store")
    return value


def write_rows(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
    """Append plain tuples to ``table``: ``executemany`` on SQLite, ``COPY`` on PostgreSQL."""
    if not rows:
        return
    names = ", ".join(columns)
    if conn.dialect.name == "sqlite":
        marks = ", ".join("?" * len(columns))
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)
        return
    driver = conn.connection.driver_connection
    assert driver is not None  # a live transaction always has its driver connection
    with driver.cursor() as cursor, \
            cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def long_work(conn: Connection) -> Connection:
    """Lift the store's statement timeout for this transaction: loading and indexing a
    million orders has statements (an index over every event) that take longer than any
    search may, and a bounded wait there would fail the import half-way."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
    return conn


def drop_secondary_indexes(conn: Connection) -> None:
    """Before a bulk load: the non-unique indexes go (unique ones find duplicates and ids)."""
    for table in BULK_TABLES:
        for index in table.indexes:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index.name}")


def build_secondary_indexes(conn: Connection) -> None:
    """After a bulk load (and idempotent otherwise): every index the schema declares."""
    for table in BULK_TABLES:
        for index in table.indexes:
            index.create(conn, checkfirst=True)


class Loader:
    """Keeps the product and buyer id maps warm across batches of one load."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.product_ids: dict[str, int] = {}
        self.buyer_ids: dict[str, int] = {}
        self.updated_ids: list[int] = []
        self.bulk = False
        sqlite = engine.dialect.name == "sqlite"
        self._time = _sqlite_time if sqlite else _pg_time

    def load(self, items: Iterable[Order], upsert: bool = True,
             on_batch: Callable[[int], None] | None = None) -> int:
        """Load in batches; into an empty store without secondary indexes until the end."""
        with self.engine.begin() as conn:
            long_work(conn)
            self.bulk = conn.execute(select(orders.c.id).limit(1)).first() is None
            if self.bulk:
                drop_secondary_indexes(conn)
        loaded = 0
        try:
            for chunk in batched(items, BATCH):
                with self.engine.begin() as conn:
                    self._load_batch(long_work(conn), chunk, upsert)
                loaded += len(chunk)
                if on_batch:
                    on_batch(len(chunk))
        finally:
            if self.bulk:
                with self.engine.begin() as conn:
                    build_secondary_indexes(long_work(conn))
                    if conn.dialect.name == "postgresql":
                        # fresh statistics, or the planner guesses for the first searches;
                        # SQLite plans well without any (and a small store's would mislead it)
                        conn.exec_driver_sql("ANALYZE")
        return loaded

    def add_products(self, conn: Connection, items: Sequence[Product]) -> None:
        missing = {p.sku: p for p in items if p.sku not in self.product_ids}
        if not missing:
            return
        self._fetch_ids(conn, products.c.sku, products.c.id, list(missing), self.product_ids)
        rows = [{"sku": p.sku, "name": p.name, "category": p.category,
                 "face_value_cents": to_cents(p.face_value)}
                for sku, p in missing.items() if sku not in self.product_ids]
        if rows:
            conn.execute(products.insert(), rows)
            self._fetch_ids(conn, products.c.sku, products.c.id,
                            [r["sku"] for r in rows], self.product_ids)

    def _load_batch(self, conn: Connection, chunk: list[Order], upsert: bool) -> None:
        chunk = list({o.order_no: o for o in chunk}.values())  # the last one stands
        self.add_products(conn, [o.product for o in chunk])
        self._add_buyers(conn, chunk)
        existing: dict[str, int] = {}
        if upsert:
            self._fetch_ids(conn, orders.c.order_no, orders.c.id,
                            [o.order_no for o in chunk], existing)
        if existing:
            self._update_orders(conn, [o for o in chunk if o.order_no in existing], existing)
        ids = dict(existing)
        fresh = [o for o in chunk if o.order_no not in existing]
        if fresh:
            next_id = (conn.execute(select(func.max(orders.c.id))).scalar() or 0) + 1
            for offset, order in enumerate(fresh):
                ids[order.order_no] = next_id + offset
            write_rows(conn, orders, ORDER_COLUMNS,
                       [self._order_row(o, ids[o.order_no]) for o in fresh])
        self._insert_children(conn, chunk, ids)

    def _add_buyers(self, conn: Connection, chunk: list[Order]) -> None:
        wanted: dict[str, Order] = {}
        for order in chunk:
            identity = buyer_identity(order.buyer)
            if identity and identity not in self.buyer_ids:
                wanted.setdefault(identity, order)
        if not wanted:
            return
        if len(self.buyer_ids) + len(wanted) > BUYER_CACHE:
            self.buyer_ids.clear()  # bounded memory; the unique index answers the misses
        self._fetch_ids(conn, buyers.c.identity, buyers.c.id, list(wanted), self.buyer_ids)
        new = [(identity, o) for identity, o in wanted.items() if identity not in self.buyer_ids]
        if not new:
            return
        next_id = (conn.execute(select(func.max(buyers.c.id))).scalar() or 0) + 1
        rows = []
        for offset, (identity, o) in enumerate(new):
            b = o.buyer
            self.buyer_ids[identity] = next_id + offset
            rows.append((next_id + offset, identity, b.account, b.phone,
                         b.phone[-4:] if b.phone else None, b.email.lower() if b.email else None))
        write_rows(conn, buyers, BUYER_COLUMNS, rows)

    def _order_values(self, order: Order) -> dict:
        identity = buyer_identity(order.buyer)
        return {
            "order_no": order.order_no,
            "product_id": self.product_ids[order.product.sku],
            "buyer_id": self.buyer_ids.get(identity) if identity else None,
            "status": order.status, "quantity": order.quantity,
            "face_value_cents": to_cents(order.face_value),
            "amount_cents": to_cents(order.amount_paid),
            "discount_cents": to_cents(order.discount) or 0,
            "refunded_cents": to_cents(order.refunded_amount) or 0,
            "currency": order.currency, "recipient_account": order.recipient_account,
            "buyer_ip": order.buyer_ip, "region": order.region, "operator": order.operator,
            "supplier": order.supplier, "remark": order.remark,
            "search_password": order.search_password,
            "created_at": order.created_at, "paid_at": order.paid_at,
            "updated_at": order.updated_at or order.paid_at or order.created_at,
        }

    def _order_row(self, order: Order, order_id: int) -> tuple:
        identity = buyer_identity(order.buyer)
        at = self._time
        return (order_id, order.order_no, self.product_ids[order.product.sku],
                self.buyer_ids.get(identity) if identity else None, order.status,
                order.quantity, to_cents(order.face_value), to_cents(order.amount_paid),
                to_cents(order.discount) or 0, to_cents(order.refunded_amount) or 0,
                order.currency, order.recipient_account, order.buyer_ip, order.region,
                order.operator, order.supplier, order.remark, order.search_password,
                at(order.created_at), at(order.paid_at),
                at(order.updated_at or order.paid_at or order.created_at))

    def _update_orders(self, conn: Connection, chunk: list[Order], ids: dict[str, int]) -> None:
        rows = []
        for order in chunk:
            row = self._order_values(order)
            row["b_id"] = ids[order.order_no]
            rows.append(row)
        values: dict[str, Any] = {name: bindparam(name) for name in rows[0]
                                  if name not in ("b_id", "order_no")}
        conn.execute(update(orders).where(orders.c.id == bindparam("b_id")).values(values), rows)
        stale = list(ids[o.order_no] for o in chunk)
        self.updated_ids.extend(stale)
        for table in (payments, order_events, order_tags):
            conn.execute(delete(table).where(table.c.order_id.in_(stale)))
        conn.execute(delete(card_keys).where(card_keys.c.order_id.in_(stale)))

    def _insert_children(self, conn: Connection, chunk: list[Order], ids: dict[str, int]) -> None:
        pays: list[tuple] = []
        events: list[tuple] = []
        tags: list[tuple] = []
        keys: list[tuple] = []
        at = self._time
        for order in chunk:
            order_id = ids[order.order_no]
            if order.payment:
                p = order.payment
                pays.append((order_id, p.channel, p.transaction_id, p.payer,
                             to_cents(p.amount), at(p.paid_at), p.proof_url))
            events.extend((order_id, at(e.at), e.kind, e.detail) for e in order.events)
            tags.extend((order_id, t) for t in dict.fromkeys(order.tags))
            product_id = self.product_ids[order.product.sku]
            keys.extend((product_id, order_id, k.serial, k.secret, k.status, at(k.delivered_at))
                        for k in order.card_keys)
        write_rows(conn, payments, PAYMENT_COLUMNS, pays)
        write_rows(conn, order_events, EVENT_COLUMNS, events)
        write_rows(conn, order_tags, TAG_COLUMNS, tags)
        write_rows(conn, card_keys, KEY_COLUMNS, keys)

    @staticmethod
    def _fetch_ids(conn: Connection, key_col, id_col, keys: list, into: dict) -> None:
        for part in batched(keys, 900):
            for key, row_id in conn.execute(select(key_col, id_col).where(key_col.in_(part))):
                into[key] = row_id


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
