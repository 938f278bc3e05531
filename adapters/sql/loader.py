"""Bulk loading of orders into the reference store.

Loads go in batches of a few thousand orders, each batch one transaction with
``executemany`` inserts: a million orders load in minutes.  A re-run upserts by
order number: the order row is updated and its payment, events, tags and
delivered keys are replaced, so loading the same file twice changes nothing.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timezone
from itertools import islice
from typing import Any

from sqlalchemy import bindparam, delete, select, update
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

BATCH = 2000


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class Loader:
    """Keeps the product and buyer id maps warm across batches of one load."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.product_ids: dict[str, int] = {}
        self.buyer_ids: dict[str, int] = {}
        self.updated_ids: list[int] = []

    def load(self, items: Iterable[Order], upsert: bool = True,
             on_batch: Callable[[int], None] | None = None) -> int:
        loaded = 0
        for chunk in batched(items, BATCH):
            with self.engine.begin() as conn:
                self._load_batch(conn, chunk, upsert)
            loaded += len(chunk)
            if on_batch:
                on_batch(len(chunk))
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
        self.add_products(conn, [o.product for o in chunk])
        self._add_buyers(conn, chunk)
        existing: dict[str, int] = {}
        if upsert:
            self._fetch_ids(conn, orders.c.order_no, orders.c.id,
                            [o.order_no for o in chunk], existing)
        fresh = [o for o in chunk if o.order_no not in existing]
        if existing:
            self._update_orders(conn, [o for o in chunk if o.order_no in existing], existing)
        if fresh:
            conn.execute(orders.insert(), [self._order_row(o) for o in fresh])
        ids = dict(existing)
        self._fetch_ids(conn, orders.c.order_no, orders.c.id,
                        [o.order_no for o in fresh], ids)
        self._insert_children(conn, chunk, ids)

    def _add_buyers(self, conn: Connection, chunk: list[Order]) -> None:
        wanted: dict[str, Order] = {}
        for order in chunk:
            identity = buyer_identity(order.buyer)
            if identity and identity not in self.buyer_ids:
                wanted.setdefault(identity, order)
        if not wanted:
            return
        self._fetch_ids(conn, buyers.c.identity, buyers.c.id, list(wanted), self.buyer_ids)
        rows = [{"identity": identity, "account": o.buyer.account, "phone": o.buyer.phone,
                 "phone_tail": o.buyer.phone[-4:] if o.buyer.phone else None,
                 "email": o.buyer.email.lower() if o.buyer.email else None}
                for identity, o in wanted.items() if identity not in self.buyer_ids]
        if rows:
            conn.execute(buyers.insert(), rows)
            self._fetch_ids(conn, buyers.c.identity, buyers.c.id,
                            [r["identity"] for r in rows], self.buyer_ids)

    def _order_row(self, order: Order) -> dict:
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

    def _update_orders(self, conn: Connection, chunk: list[Order], ids: dict[str, int]) -> None:
        rows = []
        for order in chunk:
            row = self._order_row(order)
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
        pays: list[dict] = []
        events: list[dict] = []
        tags: list[dict] = []
        keys: list[dict] = []
        for order in chunk:
            order_id = ids[order.order_no]
            if order.payment:
                p = order.payment
                pays.append({"order_id": order_id, "channel": p.channel,
                             "transaction_id": p.transaction_id, "payer": p.payer,
                             "amount_cents": to_cents(p.amount), "paid_at": p.paid_at,
                             "proof_url": p.proof_url})
            events.extend({"order_id": order_id, "at": e.at, "kind": e.kind,
                           "detail": e.detail} for e in order.events)
            tags.extend({"order_id": order_id, "tag": t} for t in dict.fromkeys(order.tags))
            product_id = self.product_ids[order.product.sku]
            keys.extend({"order_id": order_id, "product_id": product_id, "serial": k.serial,
                         "secret": k.secret, "status": k.status,
                         "delivered_at": k.delivered_at} for k in order.card_keys)
        for table, rows in ((payments, pays), (order_events, events),
                            (order_tags, tags), (card_keys, keys)):
            if rows:
                conn.execute(table.insert(), rows)

    @staticmethod
    def _fetch_ids(conn: Connection, key_col, id_col, keys: list, into: dict) -> None:
        for part in batched(keys, 900):
            for key, row_id in conn.execute(select(key_col, id_col).where(key_col.in_(part))):
                into[key] = row_id


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
