"""SqlOrderStore: the reference order store on SQLite or PostgreSQL."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import bindparam, func, or_, select, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from adapters.base import (
    CAP_ANALYTICS,
    CAP_CANCEL,
    CAP_CHANGES,
    CAP_DELIVERY_LOG,
    CAP_EDIT,
    CAP_IMPORT,
    CAP_PHONE,
    CAP_REFUND,
    CAP_REISSUE,
    CAP_SEARCH,
    Candidate,
    CardKey,
    Contact,
    ImportReport,
    NotAllowed,
    Order,
    OrderChange,
    OrderNotFound,
    OrderStats,
    OrderSummary,
    Page,
    Product,
    RelatedCounts,
    SearchQuery,
    StoreUnavailable,
)
from adapters.sql import actions, analytics, bulk, retrieval
from adapters.sql.engine import store_engine
from adapters.sql.loader import Loader, batched
from adapters.sql.rows import (
    order_from_rows,
    product_from_row,
    summary_from_row,
    summary_select,
)
from adapters.sql.schema import (
    buyers,
    card_keys,
    create_schema,
    order_events,
    order_tags,
    orders,
    payments,
    products,
)


def _related_counts_query():
    """One statement for both counts; built once because building it costs more than running it."""
    other, this = orders.alias("other"), orders.alias("this")

    def count_same(column: str):
        return (select(func.count()).select_from(other)
                .where(other.c[column] == this.c[column], other.c.id != this.c.id)
                .scalar_subquery())

    return (select(count_same("buyer_ip").label("same_ip"),
                   count_same("buyer_id").label("same_buyer"))
            .where(this.c.order_no == bindparam("order_no")))


_RELATED_COUNTS = _related_counts_query()


class SqlOrderStore:
    """Reads and acts on the reference schema; every read goes through an index."""

    capabilities = frozenset({CAP_SEARCH, CAP_DELIVERY_LOG, CAP_PHONE, CAP_CHANGES, CAP_IMPORT,
                              CAP_EDIT, CAP_REISSUE, CAP_REFUND, CAP_CANCEL, CAP_ANALYTICS})

    def __init__(self, url: str, create: bool = True) -> None:
        self.url = url
        self.engine = store_engine(url)
        if create:
            self.guarded(lambda: create_schema(self.engine))
            self.guarded(lambda: retrieval.ensure_search_index(self.engine))

    # --- plumbing ---------------------------------------------------------
    def guarded(self, work: Callable):
        """Run ``work`` turning connection failures into StoreUnavailable."""
        try:
            return work()
        except OperationalError as exc:
            raise StoreUnavailable(f"order store unavailable: {exc.orig}") from exc

    def ping(self) -> None:
        def probe():
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        try:
            self.guarded(probe)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"order store unavailable: {exc}") from exc

    def close(self) -> None:
        self.engine.dispose()

    # --- reads --------------------------------------------------------------
    def get(self, order_no: str) -> Order:
        return self.guarded(lambda: self._get(order_no))

    def _get(self, order_no: str) -> Order:
        query = (
            select(orders, products.c.sku, products.c.name.label("product_name"),
                   products.c.category,
                   products.c.face_value_cents.label("product_face_value_cents"),
                   buyers.c.account, buyers.c.phone, buyers.c.email)
            .join(products, products.c.id == orders.c.product_id)
            .outerjoin(buyers, buyers.c.id == orders.c.buyer_id)
            .where(orders.c.order_no == order_no)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
            if row is None:
                raise OrderNotFound(order_no)
            payment = conn.execute(select(payments).where(payments.c.order_id == row.id)).first()
            keys = conn.execute(select(card_keys).where(card_keys.c.order_id == row.id)
                                .order_by(card_keys.c.id)).all()
            events = conn.execute(select(order_events).where(order_events.c.order_id == row.id)
                                  .order_by(order_events.c.at, order_events.c.id)).all()
            tags = conn.execute(select(order_tags.c.tag).where(order_tags.c.order_id == row.id)
                                .order_by(order_tags.c.tag)).all()
        return order_from_rows(row, payment, keys, events, tags)

    def recent(self, offset: int = 0, limit: int = 50) -> Page:
        def read() -> Page:
            query = (summary_select().order_by(orders.c.created_at.desc(), orders.c.id.desc())
                     .offset(offset).limit(limit))
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
                total = conn.execute(select(func.count()).select_from(orders)).scalar_one()
            return Page(tuple(summary_from_row(r) for r in rows), total, offset, limit)
        return self.guarded(read)

    def products(self) -> list[Product]:
        def read():
            with self.engine.connect() as conn:
                rows = conn.execute(select(products).order_by(products.c.id)).all()
            return [product_from_row(r) for r in rows]
        return self.guarded(read)

    def orders_for_customer(self, contact: Contact, limit: int = 50) -> list[OrderSummary]:
        clauses = []
        if contact.phone:
            clauses.append(buyers.c.phone == contact.phone)
        if contact.email:
            clauses.append(buyers.c.email == contact.email.lower())
        if contact.account:
            clauses.append(buyers.c.account == contact.account)
            clauses.append(orders.c.recipient_account == contact.account)
        if not clauses:
            return []
        query = (summary_select().where(or_(*clauses))
                 .order_by(orders.c.created_at.desc()).limit(limit))

        def read():
            with self.engine.connect() as conn:
                return [summary_from_row(r) for r in conn.execute(query)]
        return self.guarded(read)

    def related(self, order_no: str) -> RelatedCounts:
        """Other orders from this order's IP and buyer, counted on ix_orders_ip/ix_orders_buyer."""
        def read() -> RelatedCounts:
            with self.engine.connect() as conn:
                row = conn.execute(_RELATED_COUNTS, {"order_no": order_no}).first()
            if row is None:
                raise OrderNotFound(order_no)
            return RelatedCounts(same_ip=row.same_ip, same_buyer=row.same_buyer)
        return self.guarded(read)

    def orders_for_ip(self, ip: str, limit: int = 50) -> list[OrderSummary]:
        """Orders placed from ``ip``, newest first (exact match on ix_orders_ip).

        The newest ids are picked before joining, so a busy IP (a shared NAT with
        thousands of orders) does not pay for thousands of joins it will not show.
        """
        if not ip:
            return []
        newest = (select(orders.c.id).where(orders.c.buyer_ip == ip)
                  .order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(limit))
        query = (summary_select().where(orders.c.id.in_(newest))
                 .order_by(orders.c.created_at.desc(), orders.c.id.desc()))

        def read():
            with self.engine.connect() as conn:
                return [summary_from_row(r) for r in conn.execute(query)]
        return self.guarded(read)

    def search(self, query: SearchQuery) -> list[Candidate]:
        return self.guarded(lambda: retrieval.search(self.engine, query))

    def changed_since(self, cursor: str | None) -> tuple[list[OrderChange], str]:
        since = (datetime.fromisoformat(cursor) if cursor
                 else datetime.now(timezone.utc))
        query = (select(orders.c.order_no, orders.c.status, orders.c.updated_at,
                        products.c.category, orders.c.supplier, orders.c.operator,
                        orders.c.region)
                 .join(products, products.c.id == orders.c.product_id)
                 .where(orders.c.updated_at > since).order_by(orders.c.updated_at).limit(1000))

        def read():
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
            changes = [OrderChange(r.order_no, r.status, r.updated_at, r.category, r.supplier,
                                   r.operator, r.region) for r in rows]
            return changes, (changes[-1].at if changes else since).isoformat()
        return self.guarded(read)

    # --- analytics ----------------------------------------------------------
    def order_stats(self, start: datetime, end: datetime, utc_offset_s: int) -> OrderStats:
        return self.guarded(lambda: analytics.order_stats(self.engine, start, end, utc_offset_s))

    def products_of(self, order_nos: Iterable[str]) -> dict[str, str]:
        return self.guarded(lambda: analytics.products_of(self.engine, order_nos))

    # --- loading ------------------------------------------------------------
    def load(self, items: Iterable[Order], upsert: bool = True,
             on_batch: Callable[[int], None] | None = None) -> int:
        loader = Loader(self.engine)
        loaded = self.guarded(lambda: loader.load(items, upsert, on_batch))
        # the loader indexed what it wrote when the index was current; else catch up
        self.guarded(lambda: retrieval.refresh_search_index(self.engine))
        return loaded

    def load_jsonl(self, path: Path,
                   on_progress: Callable[[int, int], None] | None = None) -> ImportReport:
        """A JSONL file parsed in worker processes (``adapters.sql.bulk``)."""
        loaded, errors = self.guarded(lambda: bulk.load_jsonl(self.engine, path,
                                                              on_progress=on_progress))
        self.guarded(lambda: retrieval.refresh_search_index(self.engine))
        return ImportReport(loaded=loaded, errors=tuple(errors))

    def add_products(self, items: Iterable[Product]) -> None:
        """Put products in the catalogue (kept as they are when the SKU exists)."""
        with self.engine.begin() as conn:
            Loader(self.engine).add_products(conn, list(items))

    def add_inventory(self, stock: Iterable[tuple[str, CardKey]]) -> int:
        """Put unsold card keys on the shelf of their product (by SKU, which must exist)."""
        with self.engine.connect() as conn:
            ids = dict(conn.execute(select(products.c.sku, products.c.id)).all())
        count = 0
        for chunk in batched(stock, 5000):
            unknown = {sku for sku, _ in chunk if sku not in ids}
            if unknown:
                raise NotAllowed(f"unknown product SKU(s): {', '.join(sorted(unknown)[:5])}")
            with self.engine.begin() as conn:
                conn.execute(card_keys.insert(), [
                    {"product_id": ids[sku], "order_id": None, "serial": k.serial,
                     "secret": k.secret, "status": "unsold", "delivered_at": None}
                    for sku, k in chunk])
            count += len(chunk)
        return count

    def stock(self, sku: str) -> int:
        query = (select(func.count()).select_from(card_keys)
                 .join(products, products.c.id == card_keys.c.product_id)
                 .where(products.c.sku == sku, card_keys.c.status == "unsold"))
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one()

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(orders)).scalar_one()

    # --- actions (each once per key, under the order's lock: see actions.py) ----
    def _act(self, order_no: str, kind: str, key: str, work) -> Order:
        ran = self.guarded(lambda: actions.run_once(self.engine, order_no, kind, key, work))
        if ran and kind in ("edit", "reissue"):  # new recipient or serials must be findable
            self.guarded(lambda: retrieval.refresh_search_index(
                self.engine, [self._order_id(order_no)]))
        return self.get(order_no)

    def _order_id(self, order_no: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(orders.c.id).where(orders.c.order_no == order_no))\
                .scalar_one()

    def apply_edit(self, order_no: str, changes: Mapping[str, object], key: str) -> Order:
        return self._act(order_no, "edit", key, actions.edit_work(changes))

    def reissue(self, order_no: str, reason: str, key: str) -> Order:
        return self._act(order_no, "reissue", key, actions.reissue_work(reason))

    def refund(self, order_no: str, amount: Decimal, reason: str, key: str) -> Order:
        return self._act(order_no, "refund", key, actions.refund_work(amount, reason))

    def cancel(self, order_no: str, reason: str, key: str) -> Order:
        return self._act(order_no, "cancel", key, actions.cancel_work(reason))

