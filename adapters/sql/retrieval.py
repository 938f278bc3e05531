"""Candidate retrieval for search: every fragment through an index, never a scan.

Exact keys (order number, transaction id, phone, email, IP, card serial,
recipient account) use B-tree indexes; phone tails their own indexed column;
substrings of 3+ characters a trigram index (SQLite FTS5 ``trigram``,
PostgreSQL ``pg_trgm`` GIN) over a compact per-order text; product matches
the (product, created_at) index.  Weak channels intersect when they overlap,
and the caller's ranker orders what comes back.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, MetaData, Table, Text, and_, func, or_, select
from sqlalchemy.engine import Connection, Engine

from adapters.base import Candidate, SearchQuery
from adapters.sql.rows import summary_from_row, summary_select, to_cents
from adapters.sql.schema import buyers, card_keys, orders, payments, products

CHANNEL_CAP = 1000

# PostgreSQL keeps the searchable text in a plain table with a trigram GIN index;
# SQLite keeps it in an FTS5 virtual table of the same name, created by hand.
order_text = Table(
    "order_text", MetaData(),
    Column("order_id", BigInteger, primary_key=True),
    Column("body", Text, nullable=False),
)


def _is_sqlite(engine_or_conn) -> bool:
    return engine_or_conn.dialect.name == "sqlite"


def ensure_search_index(engine: Engine) -> None:
    with engine.begin() as conn:
        if _is_sqlite(conn):
            conn.exec_driver_sql(
                "CREATE VIRTUAL TABLE IF NOT EXISTS order_text "
                "USING fts5(body, tokenize='trigram')")
        else:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            order_text.create(conn, checkfirst=True)
            conn.exec_driver_sql(
                "CREATE INDEX IF NOT EXISTS ix_order_text_trgm ON order_text "
                "USING gin (body gin_trgm_ops)")
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS order_text_state (id INTEGER PRIMARY KEY, "
            "indexed_through BIGINT NOT NULL)")


def _joined(column):
    """One string of a column's values; group_concat and string_agg spell it differently."""
    return func.aggregate_strings(column, " ")


def _body_query(after_id: int, order_ids: list[int] | None = None):
    serials = (select(_joined(card_keys.c.serial))
               .where(card_keys.c.order_id == orders.c.id).scalar_subquery())
    parts = [orders.c.order_no, func.coalesce(buyers.c.email, ""),
             func.coalesce(buyers.c.phone, ""), func.coalesce(buyers.c.account, ""),
             func.coalesce(orders.c.recipient_account, ""),
             func.coalesce(payments.c.transaction_id, ""),
             func.coalesce(serials, "")]
    body = parts[0]
    for part in parts[1:]:
        body = body + " " + part
    query = (select(orders.c.id, body.label("body")).select_from(orders)
             .outerjoin(buyers, buyers.c.id == orders.c.buyer_id)
             .outerjoin(payments, payments.c.order_id == orders.c.id))
    if order_ids is not None:
        return query.where(orders.c.id.in_(order_ids))
    return query.where(orders.c.id > after_id).order_by(orders.c.id)


def refresh_search_index(engine: Engine, order_ids: list[int] | None = None) -> None:
    """Index new orders (and re-index ``order_ids``) so substring search sees them."""
    with engine.begin() as conn:
        sqlite = _is_sqlite(conn)
        done = conn.exec_driver_sql(
            "SELECT indexed_through FROM order_text_state WHERE id = 1").scalar() or 0
        top = conn.execute(select(func.max(orders.c.id))).scalar() or 0
        if order_ids:
            _write_bodies(conn, _body_query(0, order_ids), sqlite, replace=True)
        if top > done:
            _write_bodies(conn, _body_query(done), sqlite, replace=done > 0)
            if done:
                conn.exec_driver_sql(
                    "UPDATE order_text_state SET indexed_through = %d WHERE id = 1" % top)
            else:
                conn.exec_driver_sql(
                    "INSERT INTO order_text_state (id, indexed_through) VALUES (1, %d)" % top)


def _write_bodies(conn: Connection, query, sqlite: bool, replace: bool) -> None:
    if sqlite:
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        sql = f"{verb} INTO order_text (rowid, body) SELECT * FROM ({_compile(conn, query)})"
        conn.exec_driver_sql(sql)
        return
    compiled = _compile(conn, query)
    conn.exec_driver_sql(
        f"INSERT INTO order_text (order_id, body) {compiled} "
        "ON CONFLICT (order_id) DO UPDATE SET body = EXCLUDED.body")


def _compile(conn: Connection, query) -> str:
    return str(query.compile(conn, compile_kwargs={"literal_binds": True}))


# --- search -----------------------------------------------------------------

def search(engine: Engine, query: SearchQuery) -> list[Candidate]:
    with engine.connect() as conn:
        channels = _channels(conn, query)
        hits: dict[int, set[str]] = {}
        for name, ids in channels:
            for order_id in ids:
                hits.setdefault(order_id, set()).add(name)
        ids = _combine(channels)
        if not channels:
            rows = conn.execute(_filtered(summary_select(), query)
                                .order_by(orders.c.created_at.desc()).limit(query.limit)).all()
            return [Candidate(summary_from_row(r), frozenset(_filter_hits(query))) for r in rows]
        if not ids:
            return []
        rows = []
        for part in _chunks(sorted(ids), 900):
            rows.extend(conn.execute(_filtered(summary_select(), query)
                                     .where(orders.c.id.in_(part))).all())
    rows.sort(key=lambda r: r.created_at, reverse=True)
    return [Candidate(summary_from_row(r), frozenset(hits.get(r.id, set()) | _filter_hits(query)))
            for r in rows[:query.limit]]


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _combine(channels: list[tuple[str, set[int]]]) -> set[int]:
    """Keys win outright; weak fragments intersect, or unite when they share nothing."""
    keys = [ids for name, ids in channels if name == "key"]
    if keys and keys[0]:
        return keys[0]
    weak = [ids for name, ids in channels if name != "key" and ids]
    if not weak:
        return set()
    common = set.intersection(*weak)
    return common if common else set().union(*weak)


def _filter_hits(query: SearchQuery) -> set[str]:
    hits = set()
    if query.amount_min is not None or query.amount_max is not None:
        hits.add("amount")
    if query.created_from or query.created_to:
        hits.add("date")
    return hits


def _filtered(select_query, query: SearchQuery):
    conditions = []
    if query.amount_min is not None:
        conditions.append(orders.c.amount_cents >= to_cents(query.amount_min))
    if query.amount_max is not None:
        conditions.append(orders.c.amount_cents <= to_cents(query.amount_max))
    if query.created_from:
        conditions.append(orders.c.created_at >= query.created_from)
    if query.created_to:
        conditions.append(orders.c.created_at < query.created_to)
    if query.statuses:
        conditions.append(orders.c.status.in_(sorted(query.statuses)))
    if query.categories:
        conditions.append(products.c.category.in_(sorted(query.categories)))
    return select_query.where(and_(*conditions)) if conditions else select_query


def _channels(conn: Connection, query: SearchQuery) -> list[tuple[str, set[int]]]:
    channels: list[tuple[str, set[int]]] = []
    if query.keys:
        channels.append(("key", _by_keys(conn, list(query.keys))))
    if query.phone_tails:
        channels.append(("phone_tail", _ids(conn, select(orders.c.id)
                         .join(buyers, buyers.c.id == orders.c.buyer_id)
                         .where(buyers.c.phone_tail.in_(list(query.phone_tails))))))
    for fragment in query.substrings:
        if len(fragment) >= 3:
            channels.append(("substring", _by_substring(conn, fragment)))
    if query.skus:
        q = (select(orders.c.id).join(products, products.c.id == orders.c.product_id)
             .where(products.c.sku.in_(sorted(query.skus))))
        if query.created_from:
            q = q.where(orders.c.created_at >= query.created_from)
        if query.created_to:
            q = q.where(orders.c.created_at < query.created_to)
        channels.append(("sku", _ids(conn, q.order_by(orders.c.created_at.desc()))))
    return channels


def _ids(conn: Connection, query) -> set[int]:
    return set(conn.execute(query.limit(CHANNEL_CAP)).scalars())


def _by_keys(conn: Connection, keys: list[str]) -> set[int]:
    lowered = [k.lower() for k in keys]
    found = _ids(conn, select(orders.c.id).where(or_(
        orders.c.order_no.in_(keys), orders.c.buyer_ip.in_(keys),
        orders.c.recipient_account.in_(keys))))
    found |= _ids(conn, select(payments.c.order_id).where(payments.c.transaction_id.in_(keys)))
    found |= _ids(conn, select(orders.c.id).join(buyers, buyers.c.id == orders.c.buyer_id)
                  .where(or_(buyers.c.phone.in_(keys), buyers.c.email.in_(lowered))))
    found |= _ids(conn, select(card_keys.c.order_id).where(
        card_keys.c.serial.in_(keys), card_keys.c.order_id.is_not(None)))
    return found


def _by_substring(conn: Connection, fragment: str) -> set[int]:
    if _is_sqlite(conn):
        phrase = '"' + fragment.replace('"', '""') + '"'
        rows = conn.exec_driver_sql(
            "SELECT rowid FROM order_text WHERE order_text MATCH ? LIMIT ?",
            (phrase, CHANNEL_CAP))
        return {r[0] for r in rows}
    pattern = "%" + fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return _ids(conn, select(order_text.c.order_id).where(order_text.c.body.ilike(pattern)))

