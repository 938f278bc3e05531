"""Candidate retrieval for search: every fragment through an index, never a scan.

Each kind of fragment is a *channel* answered by one index:

* exact keys (order number, transaction id, phone, email, IP, recipient, buyer
  account, card serial, a whole card secret) by B-tree indexes, and when a key
  finds nothing, its one-edit neighbours (typos) by the same indexes;
* whole emails with one slip in the local part or the domain: their one-edit
  neighbours through the email and recipient indexes;
* pieces of card-key secrets and serials (letters and digits only) by a second
  trigram index over each order's normalised keys (``order_key_text``); a piece
  with one slip is found through its intact half and checked in Python;
* phone tails by ``order_phone_tails`` (the buyer's *and* the topped-up phone);
* substrings of 3+ characters by a trigram index over a compact per-order text
  (SQLite FTS5 ``trigram``, PostgreSQL ``pg_trgm`` GIN);
* products (from the console's fuzzy catalogue match) by (product, created_at).

Channels are capped, so a broad fragment costs at most ``CHANNEL_CAP`` index
entries.  Their union is the candidate pool; orders found by a key, then by
more channels, then matching more of the *soft* filters, then newer ones fill
the bounded candidate set first.  Hard filters (the agent's explicit choices)
exclude.  When nothing but filters was given, one index chosen per filter
("driver") walks newest first and stops at the limit.

The search index tables belong to this module: they are derived data, rebuilt
whenever ``INDEX_VERSION`` changes, and kept fresh by ``refresh_search_index``.
"""
from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NamedTuple

from rapidfuzz.distance import OSA
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    and_,
    case,
    delete,
    exists,
    func,
    literal,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.engine import Connection, Engine

from adapters.base import Candidate, SearchQuery
from adapters.sql.loader import long_work, write_rows
from adapters.sql.rows import summary_from_row, summary_select, to_cents
from adapters.sql.schema import buyers, card_keys, order_tags, orders, payments, products
from adapters.sql.search_rows import (
    key_body,
    normalise_code,
    phone_tails,
    search_body,
    secret_digest,
    secret_digests,
)

CHANNEL_CAP = 1000          # index entries one fragment may contribute
SKU_CAP = 400               # orders of fuzzily matched products (a weak, broad channel)
PICK_CHUNK = 5000           # ids per "IN (...)" when ranking the pool
INDEX_BATCH = 20_000        # orders indexed per transaction
INDEX_VERSION = 4           # bump when what is indexed changes: the index is rebuilt
TYPO_MIN, TYPO_MAX = 12, 32  # keys whose one-edit neighbours are looked up (whole ids)
ACCOUNT_TYPO_MIN = 8        # shorter accounts and phones: one-edit neighbours hit strangers
TYPO_KEYS = 3
EMAIL_TYPO_MIN = 6          # local part + domain characters below which a slip is not sought
CODE_MIN = 6                # letters+digits of a card-key piece worth looking up
CODE_SLIP_MIN = 8           # a piece with one slip is sought through halves of 4+
CODE_CAP = 500              # orders one half of a piece may bring for checking
STRONG_SUBSTRING = 8        # a substring this long that finds few orders is as good as a key
STRONG_SUBSTRING_HITS = 20
NARROW_AMOUNT_CENTS = 200   # amount windows up to this many cents are looked up value by value
NARROW_DAYS = 31            # date windows up to this long drive a filter-only search
MAX_TRIGRAMS = 4            # trigrams asked of the index per substring
DATE_SLACK = timedelta(days=3)  # how far a soft date is stretched for product orders
UNION_TERMS = 250           # per-value index walks in one statement (SQLite allows 500)
KEY_CHANNELS = frozenset({"key", "key~", "email~", "code"})
SOFT_DIMENSIONS = frozenset({"amount", "created", "statuses", "categories"})

search_meta = MetaData()

# PostgreSQL keeps the searchable text in a plain table with a trigram GIN index;
# SQLite keeps it in an FTS5 virtual table of the same name, created by hand.
order_text = Table(
    "order_text", search_meta,
    Column("order_id", BigInteger, primary_key=True),
    Column("body", Text, nullable=False),
)
# Last four digits of every phone an order involves: the buyer's and the one topped up.
order_phone_tails = Table(
    "order_phone_tails", search_meta,
    Column("tail", String(4), primary_key=True),
    Column("order_id", BigInteger, primary_key=True),
    Index("ix_order_phone_tails_order", "order_id"),
)
# A card secret is never searchable by fragment (three characters at a time anyone
# could spell a key out); the whole secret, normalised and hashed, finds its order.
card_secret_digests = Table(
    "card_secret_digests", search_meta,
    Column("digest", String(32), primary_key=True),
    Column("order_id", BigInteger, primary_key=True),
    Index("ix_card_secret_digests_order", "order_id"),
)
# Card-key serials and secrets, letters and digits only, upper case, one order per row:
# pieces of a key read off a screenshot are matched here (SQLite FTS5 trigram table,
# PostgreSQL pg_trgm GIN), never in ``order_text``, so ordinary words never hit a secret.
order_key_text = Table(
    "order_key_text", search_meta,
    Column("order_id", BigInteger, primary_key=True),
    Column("body", Text, nullable=False),
)
search_index_state = Table(
    "search_index_state", search_meta,
    Column("name", String(40), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
# Newest orders carrying a tag, without sorting every order that has it.
ix_order_tags_tag_order = Index("ix_order_tags_tag_order", order_tags.c.tag, order_tags.c.order_id)



def _is_sqlite(engine_or_conn) -> bool:
    return engine_or_conn.dialect.name == "sqlite"


# --- the index ----------------------------------------------------------------

# FTS5 keeps no positions (``detail=none``): every query is an AND of single trigrams,
# checked with LIKE, so positions would only make the index bigger and slower to build.
_FTS_OPTIONS = "tokenize='trigram', detail=none"
_TEXT_TABLES = ("order_text", "order_key_text")


def ensure_search_index(engine: Engine) -> None:
    """Create the search tables; rebuild them when they were made by an older version."""
    with engine.begin() as conn:
        long_work(conn)  # emptying the old index of a big store takes a while
        search_index_state.create(conn, checkfirst=True)
        version = _state(conn, "version")
        stale = version is not None and version != INDEX_VERSION
        if _is_sqlite(conn):
            for name in _TEXT_TABLES:
                if stale:
                    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
                conn.exec_driver_sql(f"CREATE VIRTUAL TABLE IF NOT EXISTS {name} "
                                     f"USING fts5(body, {_FTS_OPTIONS})")
        else:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for table in (order_text, order_key_text):
                table.create(conn, checkfirst=True)
                conn.exec_driver_sql(
                    f"CREATE INDEX IF NOT EXISTS ix_{table.name}_trgm ON {table.name} "
                    "USING gin (body gin_trgm_ops)")
        for table in (order_phone_tails, card_secret_digests):
            table.create(conn, checkfirst=True)
        ix_order_tags_tag_order.create(conn, checkfirst=True)
        if version == INDEX_VERSION:
            return
        conn.execute(delete(order_phone_tails))
        conn.execute(delete(card_secret_digests))
        for name in _TEXT_TABLES:
            conn.exec_driver_sql(f"DELETE FROM {name}")
        set_index_state(conn, 0)
        _set_state(conn, "version", INDEX_VERSION)
    refresh_search_index(engine)


def _state(conn: Connection, name: str) -> int | None:
    return conn.execute(select(search_index_state.c.value)
                        .where(search_index_state.c.name == name)).scalar()


def _set_state(conn: Connection, name: str, value: int) -> None:
    done = conn.execute(search_index_state.update()
                        .where(search_index_state.c.name == name).values(value=value))
    if not done.rowcount:
        conn.execute(search_index_state.insert().values(name=name, value=value))


def index_state(conn: Connection) -> int:
    """The highest order id the search index holds every order up to."""
    return _state(conn, "indexed_through") or 0


def set_index_state(conn: Connection, indexed_through: int) -> None:
    _set_state(conn, "indexed_through", indexed_through)


def refresh_search_index(engine: Engine, order_ids: list[int] | None = None) -> None:
    """Index orders added since the last call, and re-index ``order_ids`` (changed ones).

    New orders go in batches, each its own transaction that also moves the
    high-water mark, so an interrupted load resumes instead of starting over.
    """
    with engine.connect() as conn:
        done = index_state(conn)
        top = conn.execute(select(func.max(orders.c.id))).scalar() or 0
    # changed orders above the high-water mark (an interrupted load) are indexed below
    changed = sorted({i for i in order_ids or () if i <= done})
    if changed:
        with engine.begin() as conn:
            long_work(conn)
            for part in _chunks(changed, 1000):
                write_search_rows(conn, _stored_rows(conn, orders.c.id.in_(part)), part)
    while done < top:
        upto = min(done + INDEX_BATCH, top)
        with engine.begin() as conn:
            long_work(conn)
            write_search_rows(conn, _stored_rows(conn, and_(orders.c.id > done,
                                                            orders.c.id <= upto)), [])
            set_index_state(conn, upto)
        done = upto


def _stored_rows(conn: Connection, where) -> list[tuple[int, _Indexed]]:
    """The search rows of stored orders, from their stored values."""
    keys: dict[int, list[tuple[str, str]]] = {}
    for order_id, serial, secret in conn.execute(
            select(card_keys.c.order_id, card_keys.c.serial, card_keys.c.secret)
            .select_from(orders).join(card_keys, card_keys.c.order_id == orders.c.id)
            .where(where).order_by(card_keys.c.order_id, card_keys.c.id)):
        keys.setdefault(order_id, []).append((serial or "", secret or ""))
    found = []
    for row in conn.execute(
            select(orders.c.id, orders.c.order_no, buyers.c.email, buyers.c.phone,
                   buyers.c.account, orders.c.recipient_account, payments.c.transaction_id,
                   payments.c.payer).select_from(orders)
            .outerjoin(buyers, buyers.c.id == orders.c.buyer_id)
            .outerjoin(payments, payments.c.order_id == orders.c.id)
            .where(where).order_by(orders.c.id)):
        its_keys = keys.get(row.id, [])
        found.append((row.id, _Indexed(
            body=search_body(row.order_no, row.email, row.phone, row.account,
                             row.recipient_account, row.transaction_id, row.payer,
                             (serial for serial, _ in its_keys)),
            key_body=key_body(its_keys),
            tails=phone_tails(row.phone, row.recipient_account),
            digests=secret_digests(secret for _, secret in its_keys))))
    return found


class _Indexed(NamedTuple):
    """What one order puts in the index (``PreparedOrder`` has the same fields)."""

    body: str
    key_body: str
    tails: tuple
    digests: tuple


def write_search_rows(conn: Connection, rows: Sequence[tuple[int, Any]],
                      replaced: Sequence[int]) -> None:
    """Write each ``(order id, rows)`` pair's search rows (anything with ``body``,
    ``key_body``, ``tails`` and ``digests``: ``PreparedOrder`` or ``_Indexed``); the
    ``replaced`` orders' old rows go first."""
    if replaced:
        _delete_search_rows(conn, replaced)
    if not rows:
        return
    texts = [(i, r.body) for i, r in rows]
    key_texts = [(i, r.key_body) for i, r in rows if r.key_body]
    tails = sorted({(t, i) for i, r in rows for t in r.tails})
    digests = sorted({(d, i) for i, r in rows for d in r.digests})
    if replaced and not _is_sqlite(conn):
        # another action may have re-indexed one of these orders meanwhile
        _merge_pg(conn, texts, key_texts, tails, digests)
        return
    id_column = "rowid" if _is_sqlite(conn) else "order_id"
    write_rows(conn, "order_text", (id_column, "body"), texts)
    write_rows(conn, "order_key_text", (id_column, "body"), key_texts)
    write_rows(conn, "order_phone_tails", ("tail", "order_id"), tails)
    write_rows(conn, "card_secret_digests", ("digest", "order_id"), digests)


def _delete_search_rows(conn: Connection, ids: Sequence[int]) -> None:
    for part in _chunks(list(ids), 900):
        for table in (order_phone_tails, card_secret_digests):
            conn.execute(delete(table).where(table.c.order_id.in_(part)))
        if _is_sqlite(conn):
            marks = ",".join("?" * len(part))
            for name in _TEXT_TABLES:
                conn.exec_driver_sql(f"DELETE FROM {name} WHERE rowid IN ({marks})", tuple(part))
        else:
            for table in (order_text, order_key_text):
                conn.execute(delete(table).where(table.c.order_id.in_(part)))


def _merge_pg(conn: Connection, texts: list, key_texts: list, tails: list,
              digests: list) -> None:
    from sqlalchemy.dialects.postgresql import insert
    for table, values in ((order_text, texts), (order_key_text, key_texts)):
        if values:
            stmt = insert(table)
            conn.execute(stmt.on_conflict_do_update(index_elements=["order_id"],
                                                    set_={"body": stmt.excluded.body}),
                         [{"order_id": i, "body": b} for i, b in values])
    for table, column, pairs in ((order_phone_tails, "tail", tails),
                                 (card_secret_digests, "digest", digests)):
        if pairs:
            conn.execute(_insert_new(conn, table), [{column: k, "order_id": i} for k, i in pairs])


def _insert_new(conn: Connection, table):
    """An INSERT that skips rows already there.  Two actions on one order may re-index it at
    the same moment (two reissues); each deletes the order's rows and writes them again, and
    on PostgreSQL the second's insert would otherwise hit the first's committed rows."""
    if _is_sqlite(conn):
        return table.insert().prefix_with("OR IGNORE")
    from sqlalchemy.dialects.postgresql import insert
    return insert(table).on_conflict_do_nothing()


# --- search -------------------------------------------------------------------

@dataclass
class _Channel:
    """Order ids one kind of fragment found, newest first where the index allows."""

    name: str
    ids: list[int]
    complete: bool = True
    strong: bool = False  # picked before the merely many (a long fragment found few orders)


@dataclass
class _Filters:
    """The query's filter dimensions, split into hard (exclude) and soft (prefer)."""

    query: SearchQuery
    hard: set[str] = field(default_factory=set)
    soft: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, query: SearchQuery) -> _Filters:
        present = set()
        if query.amount_min is not None or query.amount_max is not None:
            present.add("amount")
        if query.created_from or query.created_to:
            present.add("created")
        if query.statuses:
            present.add("statuses")
        if query.categories:
            present.add("categories")
        if query.tags:
            present.add("tags")
        soft = present & set(query.soft) & SOFT_DIMENSIONS
        return cls(query, present - soft, soft)

    @property
    def present(self) -> set[str]:
        return self.hard | self.soft

    def conditions(self, dims: Iterable[str]) -> list:
        q, out = self.query, []
        for dim in sorted(set(dims)):
            if dim == "amount":
                if q.amount_min is not None:
                    out.append(orders.c.amount_cents >= to_cents(q.amount_min))
                if q.amount_max is not None:
                    out.append(orders.c.amount_cents <= to_cents(q.amount_max))
            elif dim == "created":
                if q.created_from:
                    out.append(orders.c.created_at >= q.created_from)
                if q.created_to:
                    out.append(orders.c.created_at < q.created_to)
            elif dim == "statuses":
                out.append(orders.c.status.in_(sorted(q.statuses)))
            elif dim == "categories":
                out.append(orders.c.product_id.in_(
                    select(products.c.id).where(products.c.category.in_(sorted(q.categories)))))
            elif dim == "tags":  # per candidate through the (order_id, tag) key
                out.append(exists().where(order_tags.c.order_id == orders.c.id,
                                          order_tags.c.tag.in_(sorted(q.tags))))
        return out


def search(engine: Engine, query: SearchQuery) -> list[Candidate]:
    """Up to ``query.limit`` candidates, the likeliest first (the console ranks them)."""
    limit = max(0, int(query.limit))
    if limit == 0:
        return []
    filters = _Filters.of(query)
    with engine.connect() as conn:
        channels = _channels(conn, query, filters)
        if channels or _has_fragments(query):
            picked = _pick(conn, channels, filters, limit)
        else:
            picked = _browse(conn, filters, limit)
        if not picked:
            return []
        rows = {}
        for part in _chunks(picked, PICK_CHUNK):
            for row in conn.execute(summary_select().where(orders.c.id.in_(part))):
                rows[row.id] = row
    found: dict[int, set[str]] = {}
    for channel in channels:
        for order_id in channel.ids:
            found.setdefault(order_id, set()).add("key" if channel.name == "key~" else channel.name)
    return [Candidate(summary_from_row(rows[i]),
                      frozenset(found.get(i, set()) | _filter_hits(filters, rows[i])))
            for i in picked if i in rows]


def _has_fragments(query: SearchQuery) -> bool:
    """Fragments that found nothing still mean "nothing", not "show the newest orders"."""
    return bool(query.keys or query.phone_tails or query.skus
                or any(len(s.strip()) >= 3 for s in query.substrings))


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _filter_hits(filters: _Filters, row) -> set[str]:
    """Which filters this order satisfies (hard ones always; soft ones when they match)."""
    q, hits = filters.query, set()
    cents = row.amount_cents
    if "amount" in filters.present and cents is not None \
            and (q.amount_min is None or cents >= to_cents(q.amount_min)) \
            and (q.amount_max is None or cents <= to_cents(q.amount_max)):
        hits.add("amount")
    if "created" in filters.present \
            and (q.created_from is None or row.created_at >= q.created_from) \
            and (q.created_to is None or row.created_at < q.created_to):
        hits.add("date")
    if "statuses" in filters.present and row.status in q.statuses:
        hits.add("status")
    if "categories" in filters.present and row.category in q.categories:
        hits.add("category")
    if "tags" in filters.hard:
        hits.add("tag")
    return hits


# --- channels -------------------------------------------------------------------

def _channels(conn: Connection, query: SearchQuery, filters: _Filters) -> list[_Channel]:
    channels: list[_Channel] = []
    keys = [k.strip() for k in query.keys if k and k.strip()]
    found = False
    if keys:
        exact = _by_keys(conn, keys)
        channels.append(_Channel("key", exact))
        if not exact:
            channels.append(_Channel("key~", _by_typo(conn, keys)))
        found = bool(exact or channels[-1].ids)
    for email in dict.fromkeys(e.strip().lower() for e in query.emails):
        if not found and "@" in email and len(email) - 1 >= EMAIL_TYPO_MIN:
            channels.append(_Channel("email~", _by_email_slip(conn, email)))
    normal_keys = {normalise_code(k) for k in keys}
    for code in dict.fromkeys(normalise_code(c) for c in query.codes):
        if len(code) >= CODE_MIN and not (found and code in normal_keys):
            channels.extend(_by_code(conn, code))
    if query.phone_tails:
        channels.append(_by_tails(conn, query.phone_tails))
    # a key that found its order need not be looked for again as a substring
    settled = {k.casefold() for k in keys} if found else set()
    for fragment in dict.fromkeys(s.strip() for s in query.substrings):
        if len(fragment) >= 3 and fragment.casefold() not in settled:
            channels.append(_by_substring(conn, fragment))
    if query.skus:
        channels.append(_by_skus(conn, query.skus, filters))
    return [c for c in channels if c.ids or c.name in KEY_CHANNELS]


def _scalars(conn: Connection, query) -> list[int]:
    return list(dict.fromkeys(conn.execute(query).scalars()))


def _by_keys(conn: Connection, keys: list[str]) -> list[int]:
    """Exact identifiers, each through its own index; lower-case spellings too (emails, hex ids)."""
    variants = list(dict.fromkeys([*keys, *(k.lower() for k in keys), *(k.upper() for k in keys)]))
    lowered = list(dict.fromkeys(k.lower() for k in keys))
    queries = [
        select(orders.c.id).where(orders.c.order_no.in_(variants)),
        select(orders.c.id).where(orders.c.buyer_ip.in_(variants)),
        select(payments.c.order_id).where(payments.c.transaction_id.in_(variants)),
        select(orders.c.id).join(buyers, buyers.c.id == orders.c.buyer_id)
        .where(buyers.c.email.in_(lowered)),
        *_account_lookups(variants),
        select(card_secret_digests.c.order_id).where(
            card_secret_digests.c.digest.in_([secret_digest(k) for k in keys])),
    ]
    return _union_ids(conn, queries)[:CHANNEL_CAP * 2]


def _account_lookups(values: list[str]) -> list:
    """Where an account-like token may be: the recipient, the buyer's phone or account, a
    card serial (each through its own index)."""
    return [
        select(orders.c.id).where(orders.c.recipient_account.in_(values)),
        select(orders.c.id).join(buyers, buyers.c.id == orders.c.buyer_id)
        .where(buyers.c.phone.in_(values)),
        select(orders.c.id).join(buyers, buyers.c.id == orders.c.buyer_id)
        .where(buyers.c.account.in_(values)),
        select(card_keys.c.order_id).where(card_keys.c.serial.in_(values),
                                           card_keys.c.order_id.is_not(None)),
    ]


def _union_ids(conn: Connection, queries: list) -> list[int]:
    """Several one-index lookups in one round trip, each capped at ``CHANNEL_CAP``."""
    parts = [q.limit(CHANNEL_CAP).subquery() for q in queries]
    union = union_all(*(select(part.c[0].label("order_id")) for part in parts))
    return _scalars(conn, union)


def neighbours(key: str, lower: bool = False, inserts: str | None = None) -> list[str]:
    """Every string one typo away (a wrong, missing, extra or swapped character).

    Digits are replaced by digits and letters by letters, which is how people
    mistype numbers read off a screen; the list stays in the hundreds.  Inserted
    characters are digits and the key's own letters unless ``inserts`` says.
    """
    key = key.lower() if lower else key.upper()
    digits, letters = "0123456789", "abcdefghijklmnopqrstuvwxyz" if lower else \
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if inserts is None:
        inserts = digits + "".join(sorted({c for c in key if c.isalpha()}))
    out = set()
    for i, ch in enumerate(key):
        out.add(key[:i] + key[i + 1:])
        for other in (digits if ch.isdigit() else letters if ch.isalpha() else ""):
            if other != ch:
                out.add(key[:i] + other + key[i + 1:])
        if i + 1 < len(key) and key[i + 1] != ch:
            out.add(key[:i] + key[i + 1] + ch + key[i + 2:])
    for i in range(len(key) + 1):
        for other in inserts:
            out.add(key[:i] + other + key[i:])
    out.discard(key)
    return sorted(out)


def _by_typo(conn: Connection, keys: list[str]) -> list[int]:
    """Identifiers with one typo: their neighbours through the same exact indexes.

    Order and transaction numbers from ``TYPO_MIN`` characters; accounts, the
    recipient (a QQ number, a phone), the buyer's phone and card serials from
    ``ACCOUNT_TYPO_MIN``, where a slip still rarely lands on someone else's.
    """
    found: list[int] = []
    typo_keys = [k for k in keys if ACCOUNT_TYPO_MIN <= len(k) <= TYPO_MAX
                 and k.isalnum()][:TYPO_KEYS]
    for key in typo_keys:
        near = neighbours(key)
        near += [n.lower() for n in near if any(c.isalpha() for c in n)]
        lookups = _account_lookups(near)
        if len(key) >= TYPO_MIN:
            lookups += [select(orders.c.id).where(orders.c.order_no.in_(near)),
                        select(payments.c.order_id).where(payments.c.transaction_id.in_(near))]
        found.extend(_union_ids(conn, lookups))
    return list(dict.fromkeys(found))


_EMAIL_INSERTS = "0123456789abcdefghijklmnopqrstuvwxyz._-"


def email_neighbours(email: str) -> list[str]:
    """The email with one slip in its local part or in its domain (never across the "@")."""
    local, _, domain = email.lower().partition("@")
    out = {f"{n}@{domain}" for n in neighbours(local, lower=True, inserts=_EMAIL_INSERTS)}
    out |= {f"{local}@{n}" for n in neighbours(domain, lower=True, inserts=_EMAIL_INSERTS)
            if "." in n and not n.startswith(".") and not n.endswith(".")}
    out.discard(email.lower())
    return sorted(n for n in out if not n.startswith("@") and not n.endswith("@"))


def _by_email_slip(conn: Connection, email: str) -> list[int]:
    """Orders whose buyer's email (or recipient) is the given one with one slip undone."""
    near = email_neighbours(email)
    return _union_ids(conn, [
        select(orders.c.id).join(buyers, buyers.c.id == orders.c.buyer_id)
        .where(buyers.c.email.in_(near)),
        select(orders.c.id).where(orders.c.recipient_account.in_(near)),
    ])


def _key_text_ids(conn: Connection, piece: str, cap: int) -> list[int]:
    """Orders whose normalised card keys contain ``piece``, newest first."""
    if _is_sqlite(conn):
        rows = conn.exec_driver_sql(
            "SELECT rowid FROM order_key_text WHERE order_key_text MATCH ? "
            "AND (body || '') LIKE ? ESCAPE '\\' ORDER BY rowid DESC LIMIT ?",
            (trigram_query(piece), _like_pattern(piece), cap))
        return [r[0] for r in rows]
    return sorted(_scalars(conn, select(order_key_text.c.order_id)
                           .where(order_key_text.c.body.like(_like_pattern(piece), escape="\\"))
                           .limit(cap)), reverse=True)


def _by_code(conn: Connection, code: str) -> list[_Channel]:
    """A piece of a card secret or serial; with one slip, through whichever half is intact."""
    exact = _key_text_ids(conn, code, CHANNEL_CAP)
    if exact or len(code) < CODE_SLIP_MIN:
        return [_Channel("code", exact)]
    half = len(code) // 2
    maybe = list(dict.fromkeys([*_key_text_ids(conn, code[:half], CODE_CAP),
                                *_key_text_ids(conn, code[half:], CODE_CAP)]))
    bodies: dict[int, str] = {}
    for part in _chunks(maybe, PICK_CHUNK):
        if _is_sqlite(conn):
            marks = ",".join("?" * len(part))
            bodies.update(conn.exec_driver_sql(
                f"SELECT rowid, body FROM order_key_text WHERE rowid IN ({marks})",
                tuple(part)).all())
        else:
            bodies.update(conn.execute(select(order_key_text.c.order_id, order_key_text.c.body)
                                       .where(order_key_text.c.order_id.in_(part))).all())
    close = [i for i in maybe if one_slip_inside(code, bodies.get(i, ""))]
    return [_Channel("code", []), _Channel("code~", close)]


def one_slip_inside(piece: str, body: str) -> bool:
    """True when some stretch of one of the space-separated keys is ``piece`` with one edit
    (a wrong, missing, extra or swapped character)."""
    size = len(piece)
    for key in body.split():
        for width in (size - 1, size, size + 1):
            for start in range(0, len(key) - width + 1):
                if OSA.distance(piece, key[start:start + width], score_cutoff=1) <= 1:
                    return True
    return False


def _by_tails(conn: Connection, tails: Iterable[str]) -> _Channel:
    wanted = sorted({t for t in tails if t and len(t) == 4 and t.isdigit()})
    ids: list[int] = []
    for tail in wanted:
        ids.extend(_scalars(conn, select(order_phone_tails.c.order_id)
                            .where(order_phone_tails.c.tail == tail)
                            .order_by(order_phone_tails.c.order_id.desc()).limit(CHANNEL_CAP)))
    return _Channel("phone_tail", list(dict.fromkeys(ids)), len(ids) < CHANNEL_CAP)


def trigram_query(fragment: str, most: int = MAX_TRIGRAMS) -> str:
    """An FTS5 query that every text containing ``fragment`` satisfies, cheap to answer.

    A phrase of all overlapping trigrams reads every trigram's posting list; the
    non-overlapping ones (at most ``most``, spread, the last included) read a
    third of them, and ``_by_substring`` checks the survivors with ``LIKE``.
    Each trigram is quoted, so ``"``, ``*``, ``NEAR`` or ``AND`` are plain text.
    """
    starts = list(range(0, len(fragment) - 2, 3))
    if starts[-1] != len(fragment) - 3:
        starts.append(len(fragment) - 3)
    if len(starts) > most:
        step = (len(starts) - 1) / (most - 1)
        starts = [starts[round(i * step)] for i in range(most)]
    grams = dict.fromkeys(fragment[i:i + 3] for i in starts)
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)


def _like_pattern(fragment: str) -> str:
    return "%" + fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _by_substring(conn: Connection, fragment: str) -> _Channel:
    if _is_sqlite(conn):
        # "body || ''" keeps LIKE a check on the rows MATCH found, not a second index query
        rows = conn.exec_driver_sql(
            "SELECT rowid FROM order_text WHERE order_text MATCH ? "
            "AND (body || '') LIKE ? ESCAPE '\\' ORDER BY rowid DESC LIMIT ?",
            (trigram_query(fragment), _like_pattern(fragment), CHANNEL_CAP))
        ids = [r[0] for r in rows]
    else:
        # no ORDER BY: with one, PostgreSQL may walk the primary key backwards and
        # filter every row instead of asking the trigram index
        ids = sorted(_scalars(conn, select(order_text.c.order_id)
                              .where(order_text.c.body.ilike(_like_pattern(fragment), escape="\\"))
                              .limit(CHANNEL_CAP)), reverse=True)
    complete = len(ids) < CHANNEL_CAP
    strong = complete and len(fragment) >= STRONG_SUBSTRING and len(ids) <= STRONG_SUBSTRING_HITS
    return _Channel("substring", ids, complete, strong)


def _by_skus(conn: Connection, skus: Iterable[str], filters: _Filters) -> _Channel:
    """Orders of the matched products, newest first; those in the query's window first.

    A soft date is widened by ``DATE_SLACK`` on both sides for the rest of the
    channel: a customer's "yesterday" is often the day before, and the widened
    window keeps the channel to days near the one named instead of the newest.
    """
    product_ids = _scalars(conn, select(products.c.id).where(products.c.sku.in_(sorted(skus))))
    hard = filters.conditions(filters.hard - {"categories", "tags"})
    soft = filters.soft & {"created", "amount"}
    per = _spread(SKU_CAP, len(product_ids), 50)
    if not soft:
        ids = _newest_by(conn, orders.c.product_id, product_ids, hard,
                         "ix_orders_product", SKU_CAP, per)
        return _Channel("sku", ids, len(ids) < SKU_CAP)
    ids = _newest_by(conn, orders.c.product_id, product_ids,
                     [*hard, *filters.conditions(soft)], "ix_orders_product", SKU_CAP, per)
    if len(ids) < min(SKU_CAP, filters.query.limit):  # else the fill could not be picked
        near = _widened(filters.query) if "created" in soft else []
        more = _newest_by(conn, orders.c.product_id, product_ids, [*hard, *near],
                          "ix_orders_product", SKU_CAP - len(ids), per)
        ids = list(dict.fromkeys([*ids, *more]))[:SKU_CAP]
    return _Channel("sku", ids, len(ids) < SKU_CAP)


def _widened(q: SearchQuery) -> list:
    out = []
    if q.created_from:
        out.append(orders.c.created_at >= q.created_from - DATE_SLACK)
    if q.created_to:
        out.append(orders.c.created_at < q.created_to + DATE_SLACK)
    return out


# --- choosing from the pool --------------------------------------------------------

class _Raw(TypeDecorator):
    """A column read as the driver returns it (ordering only; no conversion cost)."""

    impl = String
    cache_ok = True


def _pick(conn: Connection, channels: list[_Channel], filters: _Filters,
          limit: int) -> list[int]:
    """Keys first, then orders more channels agree on, soft matches, newest; hard filters apply."""
    votes: dict[int, int] = {}
    keyed: set[int] = set()
    for channel in channels:
        for order_id in channel.ids:
            votes[order_id] = votes.get(order_id, 0) + 1
        if channel.name in KEY_CHANNELS or channel.strong:
            keyed.update(channel.ids)
    if not votes:
        return []
    hard = filters.conditions(filters.hard)
    # how many of the soft filters an order meets: date and amount beat either alone
    matches = [case((and_(*filters.conditions({dim})), 1), else_=0) for dim in sorted(filters.soft)]
    preferred = sum(matches[1:], matches[0]) if matches else literal(0)
    scored = []
    for part in _chunks(sorted(votes), PICK_CHUNK):
        # created_at only orders rows here: compared as stored, not turned into datetimes
        stmt = (select(orders.c.id, type_coerce(orders.c.created_at, _Raw),
                       preferred.label("preferred"))
                .where(orders.c.id.in_(part), *hard)
                .with_hint(orders, "NOT INDEXED", dialect_name="sqlite"))  # by rowid only
        for order_id, created_at, pref in conn.execute(stmt):
            scored.append((order_id in keyed, votes[order_id], pref, created_at, order_id))
    best = heapq.nlargest(limit, scored)
    return [row[-1] for row in best]


def _browse(conn: Connection, filters: _Filters, limit: int) -> list[int]:
    """Only filters were given: the newest orders matching all of them first.

    When those are fewer than ``limit``, the soft filters most often wrong are
    let go one after the other while something else still narrows: the status
    read from "没收到" (the order may be delivered, the mail in spam), then the
    date (customers misplace a day more often than an amount or a product).
    """
    dims = set(filters.present)
    ids = _newest(conn, filters, dims, limit)
    for dim in ("statuses", "created"):
        if len(ids) >= limit or dim not in filters.soft or not dims - {dim}:
            continue
        dims.discard(dim)
        ids = list(dict.fromkeys([*ids, *_newest(conn, filters, dims, limit)]))[:limit]
    return ids


def _newest(conn: Connection, filters: _Filters, dims: set[str], limit: int) -> list[int]:
    """Newest orders matching ``dims``, walked along the most selective index ("driver")."""
    q = filters.query
    others = lambda driver: filters.conditions(dims - {driver})  # noqa: E731
    if "tags" in dims:
        return _newest_tagged(conn, q.tags, others("tags"), limit)
    span = _amount_span(q)
    if "amount" in dims and span is not None and span <= NARROW_AMOUNT_CENTS \
            and q.amount_min is not None:
        low = to_cents(q.amount_min)
        cents = list(range(low, low + span + 1))
        return _newest_by(conn, orders.c.amount_cents, cents, others("amount"),
                          "ix_orders_amount", limit, _spread(limit, len(cents), 20))
    if "created" in dims and _days(q) <= NARROW_DAYS:
        return _newest_in(conn, [*filters.conditions({"created"}), *others("created")],
                          "ix_orders_created", limit)
    if "statuses" in dims:
        return _newest_by(conn, orders.c.status, sorted(q.statuses), others("statuses"),
                          "ix_orders_status", limit)
    if "categories" in dims:
        product_ids = _scalars(conn, select(products.c.id)
                               .where(products.c.category.in_(sorted(q.categories))))
        return _newest_by(conn, orders.c.product_id, product_ids, others("categories"),
                          "ix_orders_product", limit)
    if "amount" in dims:
        return _newest_in(conn, [*filters.conditions({"amount"}), *others("amount")],
                          "ix_orders_amount", limit, order_by_index=False)
    return _newest_in(conn, filters.conditions(dims), "ix_orders_created", limit)


def _amount_span(q: SearchQuery) -> int | None:
    if q.amount_min is None or q.amount_max is None:
        return None
    return max(0, to_cents(q.amount_max) - to_cents(q.amount_min))


def _days(q: SearchQuery) -> float:
    if not (q.created_from and q.created_to):
        return float("inf")
    return (q.created_to - q.created_from) / timedelta(days=1)


def _indexed(stmt, index: str):
    """Pin SQLite to the driver index (PostgreSQL plans by its statistics)."""
    return stmt.with_hint(orders, f"INDEXED BY {index}", dialect_name="sqlite")


def _newest_in(conn: Connection, conditions: list, index: str, limit: int,
               order_by_index: bool = True) -> list[int]:
    stmt = (select(orders.c.id).where(*conditions)
            .order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(limit))
    if order_by_index or conditions:
        stmt = _indexed(stmt, index)
    return _scalars(conn, stmt)


def _newest_by(conn: Connection, column, values: list, conditions: list, index: str,
               limit: int, per_walk: int | None = None) -> list[int]:
    """One index walk per value of ``column`` (each already newest first), merged in SQL.

    ``UNION ALL`` of per-value ``LIMIT`` walks reads at most ``per_walk`` entries
    per value (``limit`` by default, which makes the merge exact), where one
    ``IN (...)`` would read and sort every order having any of the values.
    """
    per = per_walk or limit
    found: list[tuple] = []
    for part in _chunks(list(values), UNION_TERMS):
        walks = [_indexed(select(type_coerce(orders.c.created_at, _Raw).label("created_at"),
                                 orders.c.id)
                          .where(column == value, *conditions)
                          .order_by(orders.c.created_at.desc()).limit(per), index).subquery()
                 for value in part]
        if not walks:
            continue
        merged = union_all(*(select(w.c.created_at, w.c.id) for w in walks)).subquery()
        found.extend(conn.execute(select(merged.c.created_at, merged.c.id)
                                  .order_by(merged.c.created_at.desc(), merged.c.id.desc())
                                  .limit(limit)))
    found.sort(reverse=True)
    return list(dict.fromkeys(order_id for _, order_id in found))[:limit]


def _spread(total: int, values: int, floor: int) -> int:
    """Entries per walk when ``values`` walks share ``total`` loosely (twice the fair share)."""
    return max(floor, -(-2 * total // max(values, 1)))


def _newest_tagged(conn: Connection, tags: Iterable[str], conditions: list,
                   limit: int) -> list[int]:
    """Tagged orders, highest id first along (tag, order_id), other filters checked per row."""
    found: list[int] = []
    for tag in sorted(set(tags)):
        stmt = (select(order_tags.c.order_id)
                .join(orders, orders.c.id == order_tags.c.order_id)
                .where(order_tags.c.tag == tag, *conditions)
                .order_by(order_tags.c.order_id.desc()).limit(limit)
                .with_hint(order_tags, "INDEXED BY ix_order_tags_tag_order",
                           dialect_name="sqlite")
                .with_hint(orders, "NOT INDEXED", dialect_name="sqlite"))
        found.extend(_scalars(conn, stmt))
    return sorted(set(found), reverse=True)[:limit]


