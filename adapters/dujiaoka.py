"""DujiaokaStore: reads and acts on a 独角数卡 (dujiaoka) shop's MySQL/MariaDB database.

The shop's tables stay as dujiaoka made them.  Reads use dujiaoka's own indexes
(``order_sn``, ``email``, ``goods_id`` and the primary key) and, when the operator added
them (``kamidesk store-indexes`` prints the DDL), indexes on ``trade_no``, ``buy_ip``,
``updated_at`` and a FULLTEXT index on ``info`` (phones, accounts and card keys).  A lookup
whose column has no index is not made at all: on a shop with millions of orders one
unindexed ``WHERE`` would scan them all on every keystroke.  Searches that only filter
(amount, date, status) walk a primary-key range: dujiaoka's ids grow with ``created_at``,
so a date window is found by bisecting ids, and without dates only the newest
``FILTER_WINDOW`` orders are walked.

Reissue takes an unsold ``carmis`` row of the order's goods, marks it sold and appends it
to the order's ``info`` in one transaction whose first write spends the idempotency key in
the adapter's own table ``kamidesk_actions``.  dujiaoka cannot refund (the money went
through the payment channel), edit or cancel, so those are not declared: the console
records manual refunds itself.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from sqlalchemy import and_, create_engine, func, insert, or_, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from adapters.base import (
    CAP_CHANGES,
    CAP_DELIVERY_LOG,
    CAP_REISSUE,
    CAP_SEARCH,
    Candidate,
    Conflict,
    Contact,
    NotAllowed,
    NotPaid,
    Order,
    OrderChange,
    OrderNotFound,
    OrderSummary,
    OutOfStock,
    Page,
    Product,
    RelatedCounts,
    SearchQuery,
    StoreUnavailable,
    money,
)
from adapters.dujiaoka_rows import (
    ACTIONS_DDL,
    AUTO,
    CATEGORY,
    CODES_OF,
    COMPLETED,
    REISSUE_LINE,
    SOLD,
    UNSOLD,
    Clock,
    actions,
    carmis,
    goods,
    order_from_row,
    orders,
    pays,
    reissue_text,
    status_of,
    summary_from_row,
)

T = TypeVar("T")

CHANNEL_CAP = 500          # orders one fragment may contribute
FILTER_WINDOW = 100_000    # newest orders a filter-only search walks without a date window
CHANGES_WINDOW = 20_000    # newest orders changed_since walks without an updated_at index
CHANGES_LIMIT = 1000
BISECT_SLACK = 2000        # ids a date bisection may leave between its bounds
TOTAL_CAP = 100_000        # ``recent`` counts at most this many orders
INDEX_TTL = 300.0          # seconds before the index list is read again
DEFAULT_ZONE = "Asia/Shanghai"  # dujiaoka's default APP_TIMEZONE
# MySQL/MariaDB errors meaning "no usable connection": can't connect, gone away, lost,
# too many connections, access denied, unknown database, server shutting down
UNREACHABLE = frozenset({2002, 2003, 2005, 2006, 2013, 2055, 1040, 1044, 1045, 1049, 1053})
DENIED = frozenset({1142, 1143, 1227})  # table/column/privilege denied to this user
REISSUABLE_CODES = frozenset({2, 3, COMPLETED, 5, 6})
UNPAID_CODES = frozenset({1, -1})

# What the operator should add for lookups dujiaoka does not index (see store_indexes_ddl).
EXTRA_INDEXES: tuple[tuple[str, str, str], ...] = (
    ("trade_no", "kd_orders_trade_no",
     "ALTER TABLE orders ADD INDEX kd_orders_trade_no (trade_no);"),
    ("buy_ip", "kd_orders_buy_ip", "ALTER TABLE orders ADD INDEX kd_orders_buy_ip (buy_ip);"),
    ("updated_at", "kd_orders_updated_at",
     "ALTER TABLE orders ADD INDEX kd_orders_updated_at (updated_at, id);"),
    ("info", "kd_orders_info", "ALTER TABLE orders ADD FULLTEXT INDEX kd_orders_info (info);"),
)


def store_indexes_ddl() -> str:
    """The DDL an operator runs once on the dujiaoka database, with why for each line."""
    why = {
        "trade_no": "find an order by the payment channel's transaction id",
        "buy_ip": "find orders by buyer IP, and count other orders from the same IP",
        "updated_at": "watch changed orders (stuck orders, outages) without a scan",
        "info": "find orders by phone number, recipient account or card key in 订单详情",
    }
    lines = ["-- Indexes Kamidesk uses on a dujiaoka database (run once; safe for dujiaoka).",
             "-- Without them those lookups are skipped rather than scanning `orders`."]
    for column, _, ddl in EXTRA_INDEXES:
        lines += [f"-- {why[column]}", ddl]
    lines += ["-- The adapter's idempotency records for reissues (or GRANT CREATE so it makes",
              "-- the table itself on the first reissue).", ACTIONS_DDL + ";"]
    return "\n".join(lines)


def _split_url(url: str) -> tuple[str, ZoneInfo]:
    """The SQLAlchemy URL without Kamidesk's own ``timezone=`` parameter, and that zone."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    zone = next((v for k, v in params if k == "timezone"), DEFAULT_ZONE)
    rest = [(k, v) for k, v in params if k != "timezone"]
    if not any(k == "charset" for k, _ in rest):
        rest.append(("charset", "utf8mb4"))
    return urlunsplit(parts._replace(query=urlencode(rest))), ZoneInfo(zone)


def _narrow(text_: str) -> bool:
    """True when ``text_`` fits dujiaoka's utf8mb3 columns (no emoji: comparing would fail)."""
    return all(ord(ch) <= 0xFFFF for ch in text_)


def _like_prefix(fragment: str) -> str:
    return fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fulltext_phrase(fragment: str) -> str | None:
    """A boolean-mode phrase for MATCH ... AGAINST, or None when nothing word-like is left."""
    words = "".join(ch if ch.isalnum() or ch in "@._-" else " " for ch in fragment).split()
    words = [w for w in words if len(w) >= 3]
    return '"' + " ".join(words) + '"' if words else None


def _fulltext_prefixes(fragment: str) -> str | None:
    words = "".join(ch if ch.isalnum() else " " for ch in fragment).split()
    words = [w for w in words if len(w) >= 3]
    return " ".join(f"+{w}*" for w in words) if words else None


class DujiaokaStore:
    """The port over a dujiaoka database; see the module docstring for what it reads."""

    capabilities = frozenset({CAP_SEARCH, CAP_REISSUE, CAP_CHANGES, CAP_DELIVERY_LOG})
    indexes_ddl = staticmethod(store_indexes_ddl)

    def __init__(self, url: str) -> None:
        engine_url, zone = _split_url(url)
        self.clock = Clock(zone)
        self.engine: Engine = create_engine(
            engine_url, pool_pre_ping=True, pool_recycle=1800, pool_size=5, max_overflow=10,
            connect_args={"connect_timeout": 5, "read_timeout": 30, "write_timeout": 30})
        self._indexes: tuple[float, frozenset[str]] = (0.0, frozenset())
        self._index_lock = threading.Lock()
        self._actions_ready = False

    # --- plumbing -----------------------------------------------------------
    def _guarded(self, work: Callable[[], T]) -> T:
        """Run ``work``; a server that cannot be reached (or refuses us) is StoreUnavailable."""
        try:
            return work()
        except DBAPIError as exc:
            code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
            if code in DENIED:
                raise NotAllowed("the dujiaoka database user may not do this (it may only "
                                 "read?): see the GRANTs for actions in Kamidesk's README "
                                 f"({exc.orig})") from exc
            if code not in UNREACHABLE:
                raise
            raise StoreUnavailable(f"dujiaoka database unavailable: {exc.orig}") from exc

    def _read(self, work: Callable[[Connection], T]) -> T:
        def run() -> T:
            with self.engine.connect() as conn:
                return work(conn)
        return self._guarded(run)

    def ping(self) -> None:
        self._read(lambda conn: conn.execute(text("SELECT 1")))

    def close(self) -> None:
        self.engine.dispose()

    def indexed(self) -> frozenset[str]:
        """Columns of ``orders`` that lead an index (``info`` when it has a FULLTEXT one)."""
        at, known = self._indexes
        if time.monotonic() - at < INDEX_TTL:
            return known
        with self._index_lock:
            rows = self._read(lambda conn: conn.execute(text(
                "SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = "
                "DATABASE() AND TABLE_NAME = 'orders' AND SEQ_IN_INDEX = 1")).scalars().all())
            known = frozenset(str(r).lower() for r in rows)
            self._indexes = (time.monotonic(), known)
        return known

    def _summary_select(self):
        return (select(orders.c.id, orders.c.order_sn, orders.c.goods_id, orders.c.title,
                       orders.c.type, orders.c.actual_price, orders.c.buy_amount,
                       orders.c.email, orders.c.buy_ip, orders.c.trade_no, orders.c.status,
                       orders.c.created_at, goods.c.gd_name)
                .select_from(orders.outerjoin(goods, goods.c.id == orders.c.goods_id))
                .where(orders.c.deleted_at.is_(None)))

    def _summaries(self, conn: Connection, query) -> list[OrderSummary]:
        return [summary_from_row(r, self.clock) for r in conn.execute(query)]

    # --- reads ----------------------------------------------------------------
    def get(self, order_no: str) -> Order:
        query = (select(orders, goods.c.gd_name, pays.c.pay_name, pays.c.pay_check)
                 .select_from(orders.outerjoin(goods, goods.c.id == orders.c.goods_id)
                              .outerjoin(pays, pays.c.id == orders.c.pay_id))
                 .where(orders.c.order_sn == order_no, orders.c.deleted_at.is_(None)))
        row = self._read(lambda conn: conn.execute(query).first())
        if row is None:
            raise OrderNotFound(order_no)
        return order_from_row(row, self.clock)

    def recent(self, offset: int = 0, limit: int = 50) -> Page:
        def read(conn: Connection) -> Page:
            rows = self._summaries(conn, self._summary_select().order_by(orders.c.id.desc())
                                   .offset(offset).limit(limit))
            capped = select(orders.c.id).where(orders.c.deleted_at.is_(None)).limit(TOTAL_CAP)
            total = conn.execute(select(func.count()).select_from(capped.subquery())).scalar_one()
            return Page(tuple(rows), total, offset, limit)
        return self._read(read)

    def products(self) -> list[Product]:
        query = select(goods.c.id, goods.c.gd_name).where(goods.c.deleted_at.is_(None))\
            .order_by(goods.c.id)
        rows = self._read(lambda conn: conn.execute(query).all())
        return [Product(sku=str(r.id), name=r.gd_name, category=CATEGORY) for r in rows]

    def orders_for_customer(self, contact: Contact, limit: int = 50) -> list[OrderSummary]:
        """By email (dujiaoka's index); phone or account through ``info`` when indexed."""
        clauses = []
        if contact.email and _narrow(contact.email):
            clauses.append(orders.c.email == contact.email.strip())
        if "info" in self.indexed():
            for value in (contact.phone, contact.account):
                phrase = _fulltext_phrase(value or "")
                if phrase:
                    clauses.append(_match(phrase))
        if not clauses:
            return []
        return self._read(lambda conn: self._by_ids(conn, self._union_ids(conn, clauses, limit),
                                                    limit))

    def related(self, order_no: str) -> RelatedCounts:
        """Other orders from this IP (needs the buy_ip index) and this email."""
        def read(conn: Connection) -> RelatedCounts:
            row = conn.execute(select(orders.c.id, orders.c.buy_ip, orders.c.email)
                               .where(orders.c.order_sn == order_no)).first()
            if row is None:
                raise OrderNotFound(order_no)

            def others(column, value) -> int:
                if not value:
                    return 0
                return conn.execute(select(func.count()).select_from(orders).where(
                    column == value, orders.c.id != row.id,
                    orders.c.deleted_at.is_(None))).scalar_one()
            same_ip = others(orders.c.buy_ip, row.buy_ip) if "buy_ip" in self.indexed() else 0
            return RelatedCounts(same_ip=same_ip, same_buyer=others(orders.c.email, row.email))
        return self._read(read)

    def orders_for_ip(self, ip: str, limit: int = 50) -> list[OrderSummary]:
        if not ip or not _narrow(ip) or "buy_ip" not in self.indexed():
            return []
        query = self._summary_select().where(orders.c.buy_ip == ip)\
            .order_by(orders.c.id.desc()).limit(limit)
        return self._read(lambda conn: self._summaries(conn, query))

    # --- search ---------------------------------------------------------------
    def search(self, query: SearchQuery) -> list[Candidate]:
        return self._read(lambda conn: self._search(conn, query))

    def _search(self, conn: Connection, query: SearchQuery) -> list[Candidate]:
        if getattr(query, "tags", None):
            return []  # dujiaoka has no tags, so no order carries the asked-for one
        hard, soft = self._filters(query)
        if hard is None:
            return []
        fragments = bool(query.keys or query.phone_tails or query.substrings or query.skus)
        if not fragments:
            return self._filtered(conn, query, hard, soft)
        found: dict[int, set[str]] = {}
        for channel, clause in self._channels(query):
            for order_id in self._ids(conn, clause, CHANNEL_CAP):
                found.setdefault(order_id, set()).add(channel)
        if not found:
            return []
        rows = conn.execute(self._summary_select()
                            .where(orders.c.id.in_(list(found)), *hard)).all()
        candidates = [Candidate(summary_from_row(r, self.clock),
                                frozenset(found[r.id] | _filter_hits(query, r, self.clock)))
                      for r in rows]
        candidates.sort(key=lambda c: ("key" not in c.hits, -len(c.hits),
                                       -c.summary.created_at.timestamp()))
        return candidates[:query.limit]

    def _channels(self, query: SearchQuery) -> Iterable[tuple[str, object]]:
        indexed = self.indexed()
        for key in query.keys:
            key = key.strip()
            if not key or not _narrow(key):
                continue
            clauses = [orders.c.order_sn == key, orders.c.email == key]
            if "trade_no" in indexed:
                clauses.append(orders.c.trade_no == key)
            if "buy_ip" in indexed:
                clauses.append(orders.c.buy_ip == key)
            phrase = _fulltext_phrase(key) if "info" in indexed else None
            if phrase:
                clauses.append(_match(phrase))
            yield from (("key", c) for c in clauses)
        for fragment in query.substrings:
            fragment = fragment.strip()
            if len(fragment) < 3 or not _narrow(fragment):
                continue
            like = _like_prefix(fragment)
            yield "substring", orders.c.order_sn.like(like, escape="\\")
            yield "substring", orders.c.email.like(like, escape="\\")
            if "trade_no" in indexed:
                yield "substring", orders.c.trade_no.like(like, escape="\\")
            prefixes = _fulltext_prefixes(fragment) if "info" in indexed else None
            if prefixes:
                yield "substring", _match(prefixes)
        for sku in sorted(query.skus):
            if sku.isdigit():
                yield "sku", orders.c.goods_id == int(sku)

    def _ids(self, conn: Connection, clause, limit: int) -> list[int]:
        return list(conn.execute(select(orders.c.id).where(clause, orders.c.deleted_at.is_(None))
                                 .order_by(orders.c.id.desc()).limit(limit)).scalars())

    def _union_ids(self, conn: Connection, clauses: list, limit: int) -> list[int]:
        ids: set[int] = set()
        for clause in clauses:
            ids.update(self._ids(conn, clause, limit))
        return sorted(ids, reverse=True)[:limit]

    def _by_ids(self, conn: Connection, ids: list[int], limit: int) -> list[OrderSummary]:
        if not ids:
            return []
        return self._summaries(conn, self._summary_select().where(orders.c.id.in_(ids))
                               .order_by(orders.c.id.desc()).limit(limit))

    def _filters(self, query: SearchQuery) -> tuple[list | None, list]:
        """(hard clauses or None when nothing can match, soft clauses) for the filters."""
        hard: list = []
        soft: list = []
        place = {True: soft, False: hard}
        named = query.soft
        if query.amount_min is not None:
            place["amount" in named].append(orders.c.actual_price >= query.amount_min)
        if query.amount_max is not None:
            place["amount" in named].append(orders.c.actual_price <= query.amount_max)
        if query.created_from is not None:
            place["created" in named].append(
                orders.c.created_at >= self.clock.write(query.created_from))
        if query.created_to is not None:
            place["created" in named].append(
                orders.c.created_at < self.clock.write(query.created_to))
        if query.statuses:
            codes = [CODES_OF[s] for s in sorted(query.statuses) if s in CODES_OF]
            clause = or_(*[and_(orders.c.status == code,
                                orders.c.type == kind) if kind else orders.c.status == code
                           for code, kind in codes]) if codes else None
            if clause is None and "statuses" not in named:
                return None, soft
            if clause is not None:
                place["statuses" in named].append(clause)
        if query.categories and CATEGORY not in query.categories and \
                "categories" not in named:
            return None, soft
        return hard, soft

    def _filtered(self, conn: Connection, query: SearchQuery, hard: list,
                  soft: list) -> list[Candidate]:
        """Only filters: walk a primary-key range newest first, soft filters first."""
        low, high = self._id_window(conn, query)
        if low is None:
            return []
        window = [orders.c.id >= low] + ([orders.c.id <= high] if high is not None else [])
        base = self._summary_select().where(*window, *hard).order_by(orders.c.id.desc())
        rows = list(conn.execute(base.where(*soft).limit(query.limit)))
        if soft and len(rows) < query.limit:
            seen = {r.id for r in rows}
            rows += [r for r in conn.execute(base.limit(query.limit)) if r.id not in seen]
        return [Candidate(summary_from_row(r, self.clock), frozenset(
            _filter_hits(query, r, self.clock))) for r in rows[:query.limit]]

    def _id_window(self, conn: Connection, query: SearchQuery) -> tuple[int | None, int | None]:
        """Ids bounding the dates asked for (by bisection), else the newest FILTER_WINDOW."""
        bounds = conn.execute(select(func.min(orders.c.id), func.max(orders.c.id))).one()
        first, last = bounds
        if first is None:
            return None, None
        if query.created_from is None and query.created_to is None:
            return max(first, last - FILTER_WINDOW + 1), last
        low, high = first, last
        if query.created_from is not None:
            low = _id_bracket(conn, first, last, self.clock.write(query.created_from))[0]
        if query.created_to is not None:
            high = _id_bracket(conn, first, last, self.clock.write(query.created_to))[1]
        if low > last or high < low:
            return None, None
        return low, high

    # --- changes -------------------------------------------------------------
    def changed_since(self, cursor: str | None) -> tuple[list[OrderChange], str]:
        """Orders whose ``updated_at`` moved past the cursor (``<iso time>#<id>``), oldest first."""
        since, after_id = _parse_cursor(cursor)
        local = self.clock.write(since)

        def read(conn: Connection) -> tuple[list[OrderChange], str]:
            moved = and_(orders.c.updated_at >= local,  # a range on (updated_at, id)
                         or_(orders.c.updated_at > local, orders.c.id > after_id))
            query = select(orders.c.id, orders.c.order_sn, orders.c.status, orders.c.type,
                           orders.c.updated_at).where(moved, orders.c.deleted_at.is_(None))
            if "updated_at" not in self.indexed():
                last = conn.execute(select(func.max(orders.c.id))).scalar() or 0
                query = query.where(orders.c.id > last - CHANGES_WINDOW)
            rows = conn.execute(query.order_by(orders.c.updated_at, orders.c.id)
                                .limit(CHANGES_LIMIT)).all()
            changes = [OrderChange(r.order_sn, status_of(r.status, r.type),
                                   self.clock.read(r.updated_at) or since, category=CATEGORY)
                       for r in rows]
            if not rows:
                return [], _cursor(since, after_id)
            return changes, _cursor(changes[-1].at, rows[-1].id)
        return self._read(read)

    # --- actions -------------------------------------------------------------
    def reissue(self, order_no: str, reason: str, key: str) -> Order:
        """Deliver fresh unsold ``carmis`` for the order's goods, once per ``key``."""
        if not key or len(key) > 128:
            raise NotAllowed("an action needs an idempotency key of 1 to 128 characters")
        self._ensure_actions_table()
        try:
            self._guarded(lambda: self._reissue_once(order_no, reason, key))
        except IntegrityError:
            spent = self._read(lambda conn: conn.execute(
                select(actions.c.order_sn, actions.c.kind)
                .where(actions.c.idem_key == key)).first())
            if spent is None:
                raise
            if (spent.order_sn, spent.kind) != (order_no, "reissue"):
                raise Conflict(f"idempotency key already used for {spent.kind} "
                               f"on order {spent.order_sn}") from None
        return self.get(order_no)

    def _reissue_once(self, order_no: str, reason: str, key: str) -> None:
        now = self.clock.now()
        with self.engine.begin() as conn:
            conn.execute(insert(actions).values(idem_key=key, order_sn=order_no, kind="reissue",
                                                reason=(reason or "")[:500], created_at=now))
            row = conn.execute(select(orders).where(orders.c.order_sn == order_no,
                                                    orders.c.deleted_at.is_(None))
                               .with_for_update()).first()
            if row is None:
                raise OrderNotFound(order_no)
            if row.status in UNPAID_CODES:
                raise NotPaid(f"order {order_no} has not been paid, so nothing can be delivered")
            if row.status not in REISSUABLE_CODES:
                raise NotAllowed(f"order {order_no} is {status_of(row.status, row.type)}; "
                                 "nothing can be reissued")
            if row.type != AUTO:
                raise NotAllowed(f"order {order_no} is delivered by hand (人工处理) in dujiaoka, "
                                 "so it has no card key to reissue; deliver it in the shop's "
                                 "admin")
            live = _live_key_lines(row.info)
            count = len(live) or max(1, row.buy_amount)
            picked = self._claim_carmis(conn, row.goods_id, count, now)
            conn.execute(update(orders).where(orders.c.id == row.id).values(
                info=reissue_text(row.info, [p.carmi for p in picked],
                                  now.strftime("%Y-%m-%d %H:%M:%S")),
                status=COMPLETED, updated_at=now))

    def _claim_carmis(self, conn: Connection, goods_id: int, count: int, now: datetime):
        """Lock ``count`` unsold keys (others' locked ones are skipped) and mark them sold."""
        pick = (select(carmis.c.id, carmis.c.carmi, carmis.c.is_loop)
                .where(carmis.c.goods_id == goods_id, carmis.c.status == UNSOLD,
                       carmis.c.deleted_at.is_(None))
                .order_by(carmis.c.id).limit(count).with_for_update(skip_locked=True))
        picked = conn.execute(pick).all()
        if len(picked) < count:
            raise OutOfStock(str(goods_id))
        single = [p.id for p in picked if not p.is_loop]  # loop keys (循环卡密) stay on sale
        if single:
            conn.execute(update(carmis).where(carmis.c.id.in_(single))
                         .values(status=SOLD, updated_at=now))
        return picked

    def _ensure_actions_table(self) -> None:
        if self._actions_ready:
            return
        def make() -> None:
            with self.engine.begin() as conn:
                if not conn.execute(text("SHOW TABLES LIKE 'kamidesk_actions'")).first():
                    conn.execute(text(ACTIONS_DDL))
        try:
            self._guarded(make)
        except NotAllowed:
            raise NotAllowed("this dujiaoka database user cannot see or create the "
                             "kamidesk_actions table: run the DDL from `kamidesk store-indexes` "
                             "and GRANT the action privileges (README: dujiaoka)") from None
        self._actions_ready = True

    def _refuse(self, what: str) -> Order:
        raise NotAllowed(f"dujiaoka cannot {what}")

    def apply_edit(self, order_no: str, changes: Mapping[str, object], key: str) -> Order:
        return self._refuse("edit orders; change it in the shop's admin")

    def refund(self, order_no: str, amount: Decimal, reason: str, key: str) -> Order:
        return self._refuse("refund: pay it back through the payment channel")

    def cancel(self, order_no: str, reason: str, key: str) -> Order:
        return self._refuse("cancel orders")


def _match(expression: str):
    return text("MATCH (orders.info) AGAINST (:ft IN BOOLEAN MODE)").bindparams(ft=expression)


def _live_key_lines(info: str | None) -> list[str]:
    """Key lines after the last reissue mark (the ones the buyer holds now)."""
    live: list[str] = []
    for raw in (info or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        if REISSUE_LINE.match(line):
            live = []
        else:
            live.append(line)
    return live


def _filter_hits(query: SearchQuery, row, clock: Clock) -> set[str]:
    hits: set[str] = set()
    amount = money(row.actual_price)
    if (query.amount_min is not None or query.amount_max is not None) and \
            (query.amount_min is None or amount >= query.amount_min) and \
            (query.amount_max is None or amount <= query.amount_max):
        hits.add("amount")
    created = clock.read(row.created_at)
    if (query.created_from or query.created_to) and created is not None and \
            (query.created_from is None or created >= query.created_from) and \
            (query.created_to is None or created < query.created_to):
        hits.add("date")
    if query.statuses and status_of(row.status, row.type) in query.statuses:
        hits.add("status")
    if query.categories and CATEGORY in query.categories:
        hits.add("category")
    return hits


def _id_bracket(conn: Connection, first: int, last: int, local: datetime) -> tuple[int, int]:
    """Ids ``(low, high)`` around the first order created at or after ``local``.

    Bisects the id space with primary-key lookups (ids grow with creation time) until the
    bracket is at most ``BISECT_SLACK`` ids wide: the window only bounds the range walked,
    the exact ``created_at`` test is in the query itself.
    """
    low, high = first, last + 1
    while high - low > BISECT_SLACK:
        middle = (low + high) // 2
        row = conn.execute(select(orders.c.id, orders.c.created_at).where(orders.c.id >= middle)
                           .order_by(orders.c.id).limit(1)).first()
        if row is not None and row.created_at is not None and row.created_at >= local:
            high = middle
        else:
            low = middle + 1
    return low, high


def _parse_cursor(cursor: str | None) -> tuple[datetime, int]:
    if not cursor:
        return datetime.now(timezone.utc), 2**62
    at, _, after = cursor.partition("#")
    since = datetime.fromisoformat(at)
    if since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    return since, int(after) if after.isdigit() else 2**62


def _cursor(at: datetime, after_id: int) -> str:
    return f"{at.astimezone(timezone.utc).isoformat()}#{after_id}"
