"""Bulk loading of orders into the reference store.

Loads go in batches of a few thousand orders, each batch one transaction that writes
the orders, their children and their search-index rows together (so an interrupted
load leaves whole orders, each findable).  Rows are written with the driver's own
``executemany`` (SQLite) or ``COPY`` (PostgreSQL) from plain tuples made by
``adapters.sql.prepared``, never through per-value ORM conversions, and new orders get
their ids here rather than being read back.  A load into a store that has no orders
yet drops the secondary indexes first and builds them once at the end, which is
several times faster than keeping them up to date row by row; it also skips looking
each order number up, and only when the unique index finds a repeat does the batch
go again the careful way.

A re-run upserts by order number: the order row is updated and its payment, events,
tags, delivered keys and search rows are replaced, so loading the same file twice
changes nothing.  Memory stays flat: a batch at a time, and the buyer id cache is
bounded.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice

from sqlalchemy import Table, delete, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from adapters.base import Order, Product
from adapters.sql.prepared import PreparedOrder, prepare
from adapters.sql.rows import to_cents
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
_UPDATE_ORDER = ("UPDATE orders SET product_id = ?, buyer_id = ?, "
                 + ", ".join(f"{c} = ?" for c in ORDER_COLUMNS[4:]) + " WHERE id = ?")

# A repeat of an order number loaded earlier in the same load: told the order and the
# id it got then (``Loader.first_new_id`` and up are this load's), it is not written.
OnRepeat = Callable[[PreparedOrder, int], None]


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def write_rows(conn: Connection, table: Table | str, columns: Sequence[str],
               rows: list[tuple]) -> None:
    """Append plain tuples to ``table``: ``executemany`` on SQLite, ``COPY`` on PostgreSQL."""
    if not rows:
        return
    name = table if isinstance(table, str) else table.name
    names = ", ".join(columns)
    if conn.dialect.name == "sqlite":
        marks = ", ".join("?" * len(columns))
        conn.exec_driver_sql(f"INSERT INTO {name} ({names}) VALUES ({marks})", rows)
        return
    driver = conn.connection.driver_connection
    assert driver is not None  # a live transaction always has its driver connection
    with driver.cursor() as cursor, cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
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
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA threads = 4")  # the sorter may use the idle cores
    for table in BULK_TABLES:
        for index in table.indexes:
            index.create(conn, checkfirst=True)


class Loader:
    """Keeps the product and buyer id maps warm across batches of one load."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self.product_ids: dict[str, int] = {}
        self.buyer_ids: dict[str, int] = {}
        self.bulk = False
        self.first_new_id = 1
        self.index_current = False
        self.buyers_all_known = False
        self._journal: list[tuple[dict, str]] | None = None  # ids cached in this transaction
        # COPY goes to the driver directly, so its refusals come unwrapped
        dbapi = engine.dialect.dbapi
        self._driver_integrity_error = dbapi.IntegrityError if dbapi else IntegrityError

    def load(self, items: Iterable[Order], upsert: bool = True,
             on_batch: Callable[[int], None] | None = None) -> int:
        """Load in batches; a repeated order number in one batch: the last one stands."""
        self.begin()
        loaded = 0
        try:
            for chunk in batched(items, BATCH):
                last = {o.order_no: o for o in chunk}
                self.write([prepare(o, self.sqlite) for o in last.values()], upsert)
                loaded += len(chunk)
                if on_batch:
                    on_batch(len(chunk))
        finally:
            self.finish()
        return loaded

    def begin(self) -> None:
        """Before the first batch: is the store empty (a bulk load), is its index current?"""
        from adapters.sql.retrieval import index_state

        with self.engine.begin() as conn:
            long_work(conn)
            top = conn.execute(select(func.max(orders.c.id))).scalar() or 0
            self.first_new_id = top + 1
            self.bulk = top == 0
            self.index_current = index_state(conn) == top
            # into an empty store every buyer is one this load wrote, and in the cache
            self.buyers_all_known = conn.execute(select(buyers.c.id).limit(1)).first() is None
            if self.bulk:
                drop_secondary_indexes(conn)

    def finish(self) -> None:
        if not self.bulk:
            return
        with self.engine.begin() as conn:
            build_secondary_indexes(long_work(conn))
            if conn.dialect.name == "postgresql":
                # fresh statistics, or the planner guesses for the first searches;
                # SQLite plans well without any (and a small store's would mislead it)
                conn.exec_driver_sql("ANALYZE")

    def write(self, batch: list[PreparedOrder], upsert: bool,
              on_repeat: OnRepeat | None = None) -> dict[str, int]:
        """One batch (order numbers distinct within it) in one transaction; returns the ids
        of the orders written.  Into a bulk load the batch first goes without looking order
        numbers up, and again the careful way when the unique index finds a repeat."""
        if self.bulk and upsert:
            self._journal = []
            try:
                with self.engine.begin() as conn:
                    return self._write(long_work(conn), batch, looked_up={}, on_repeat=None)
            except (IntegrityError, self._driver_integrity_error):
                # an order number of an earlier batch: forget the ids the rollback took back
                for cache, key in self._journal:
                    cache.pop(key, None)
            finally:
                self._journal = None
        with self.engine.begin() as conn:
            existing: dict[str, int] = {}
            if upsert:
                self._fetch_ids(conn, orders.c.order_no, orders.c.id,
                                [p.order_no for p in batch], existing)
            return self._write(long_work(conn), batch, existing, on_repeat)

    def _write(self, conn: Connection, batch: list[PreparedOrder], looked_up: dict[str, int],
               on_repeat: OnRepeat | None) -> dict[str, int]:
        if on_repeat is not None:
            repeats = [p for p in batch if looked_up.get(p.order_no, 0) >= self.first_new_id]
            for p in repeats:
                on_repeat(p, looked_up[p.order_no])
            if repeats:
                batch = [p for p in batch if looked_up.get(p.order_no, 0) < self.first_new_id]
        self._add_products(conn, batch)
        self._add_buyers(conn, batch)
        ids = {p.order_no: looked_up[p.order_no] for p in batch if p.order_no in looked_up}
        if ids:
            self._update_orders(conn, [p for p in batch if p.order_no in ids], ids)
        fresh = [p for p in batch if p.order_no not in ids]
        if fresh:
            next_id = (conn.execute(select(func.max(orders.c.id))).scalar() or 0) + 1
            for offset, prepared in enumerate(fresh):
                ids[prepared.order_no] = next_id + offset
            write_rows(conn, orders, ORDER_COLUMNS, [self._order_row(p, ids[p.order_no])
                                                     for p in fresh])
        self._insert_children(conn, batch, ids)
        self._index(conn, batch, ids, replaced=[ids[p.order_no] for p in batch
                                                if p.order_no in looked_up])
        return ids

    def _index(self, conn: Connection, batch: list[PreparedOrder], ids: dict[str, int],
               replaced: list[int]) -> None:
        """The batch's search rows, when the index is current (else the next refresh
        indexes the new orders); replaced orders always, as far as the index reaches."""
        from adapters.sql.retrieval import index_state, set_index_state, write_search_rows

        through = index_state(conn)
        stale = {i for i in replaced if i <= through}
        top = max(ids.values(), default=through) if self.index_current else through
        chosen = [(ids[p.order_no], p) for p in batch
                  if ids[p.order_no] in stale or through < ids[p.order_no] <= top]
        write_search_rows(conn, chosen, sorted(stale))
        if top > through:
            set_index_state(conn, top)

    def add_products(self, conn: Connection, items: Sequence[Product]) -> None:
        self._add_product_rows(conn, [(p.sku, p.name, p.category, to_cents(p.face_value))
                                      for p in items])

    def _add_products(self, conn: Connection, batch: list[PreparedOrder]) -> None:
        self._add_product_rows(conn, [p.product for p in batch])

    def _add_product_rows(self, conn: Connection, items: list[tuple]) -> None:
        missing = {row[0]: row for row in items if row[0] not in self.product_ids}
        if not missing:
            return
        self._fetch_ids(conn, products.c.sku, products.c.id, list(missing), self.product_ids)
        rows = [{"sku": sku, "name": name, "category": category, "face_value_cents": cents}
                for sku, name, category, cents in missing.values() if sku not in self.product_ids]
        if rows:
            conn.execute(products.insert(), rows)
            self._fetch_ids(conn, products.c.sku, products.c.id,
                            [r["sku"] for r in rows], self.product_ids)
            if self._journal is not None:
                self._journal.extend((self.product_ids, r["sku"]) for r in rows)

    def _add_buyers(self, conn: Connection, batch: list[PreparedOrder]) -> None:
        wanted: dict[str, tuple] = {}
        for p in batch:
            if p.buyer is not None and p.buyer[0] not in self.buyer_ids:
                wanted.setdefault(p.buyer[0], p.buyer)
        if not wanted:
            return
        if len(self.buyer_ids) + len(wanted) > BUYER_CACHE:
            self.buyer_ids.clear()  # bounded memory; the unique index answers the misses
            self.buyers_all_known = False
        if not self.buyers_all_known:
            self._fetch_ids(conn, buyers.c.identity, buyers.c.id, list(wanted), self.buyer_ids)
        new = [row for identity, row in wanted.items() if identity not in self.buyer_ids]
        if not new:
            return
        next_id = (conn.execute(select(func.max(buyers.c.id))).scalar() or 0) + 1
        rows = []
        for offset, row in enumerate(new):
            self.buyer_ids[row[0]] = next_id + offset
            rows.append((next_id + offset, *row))
        if self._journal is not None:
            self._journal.extend((self.buyer_ids, row[0]) for row in new)
        write_rows(conn, buyers, BUYER_COLUMNS, rows)

    def _order_row(self, p: PreparedOrder, order_id: int) -> tuple:
        return (order_id, p.order_no, self.product_ids[p.product[0]],
                None if p.buyer is None else self.buyer_ids[p.buyer[0]], *p.row)

    def _update_orders(self, conn: Connection, batch: list[PreparedOrder],
                       ids: dict[str, int]) -> None:
        stale = [ids[p.order_no] for p in batch]
        rows = [(self.product_ids[p.product[0]],
                 None if p.buyer is None else self.buyer_ids[p.buyer[0]], *p.row, ids[p.order_no])
                for p in batch]
        driver = conn.connection.driver_connection
        if self.sqlite:
            conn.exec_driver_sql(_UPDATE_ORDER, rows)
        else:
            assert driver is not None
            with driver.cursor() as cursor:
                cursor.executemany(_UPDATE_ORDER.replace("?", "%s"), rows)
        for table in (payments, order_events, order_tags, card_keys):
            for part in batched(stale, 900):
                conn.execute(delete(table).where(table.c.order_id.in_(part)))

    def _insert_children(self, conn: Connection, batch: list[PreparedOrder],
                         ids: dict[str, int]) -> None:
        pays: list[tuple] = []
        events: list[tuple] = []
        tags: list[tuple] = []
        keys: list[tuple] = []
        for p in batch:
            order_id = ids[p.order_no]
            if p.payment is not None:
                pays.append((order_id, *p.payment))
            events.extend((order_id, *e) for e in p.events)
            tags.extend((order_id, t) for t in p.tags)
            if p.keys:
                product_id = self.product_ids[p.product[0]]
                keys.extend((product_id, order_id, *k) for k in p.keys)
        write_rows(conn, payments, PAYMENT_COLUMNS, pays)
        write_rows(conn, order_events, EVENT_COLUMNS, events)
        write_rows(conn, order_tags, TAG_COLUMNS, tags)
        write_rows(conn, card_keys, KEY_COLUMNS, keys)

    @staticmethod
    def _fetch_ids(conn: Connection, key_col, id_col, keys: list, into: dict) -> None:
        for part in batched(keys, 900):
            for key, row_id in conn.execute(select(key_col, id_col).where(key_col.in_(part))):
                into[key] = row_id
