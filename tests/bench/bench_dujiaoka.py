"""dujiaoka search benchmark: p50/p95 of ``DujiaokaStore.search`` per query class on MariaDB.

A private MariaDB (tests/servers.py) holds two dujiaoka databases of ``BENCH_DUJIAOKA_ORDERS``
orders (default 200,000): one with only dujiaoka's own indexes, one with those
``kamidesk store-indexes`` prints.  Each query class is timed on random orders; the
*baseline*, measured in the same run, is the scan a naive adapter would make
(``email LIKE '%fragment%'``).  Lookups a database cannot answer without its extra index
are skipped by the adapter, so on the plain database they find nothing (and cost nothing).

    python tests/bench/bench_dujiaoka.py
"""
from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ORDERS = int(os.environ.get("BENCH_DUJIAOKA_ORDERS", "200000"))
SAMPLES = int(os.environ.get("BENCH_DUJIAOKA_SAMPLES", "150"))
SEED_ORDERS = 3000


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def fill(shop, orders) -> int:
    """Seed generated orders, then double them (later in time, new numbers) up to ORDERS."""
    from sqlalchemy import text

    shop.add_orders(orders)
    with shop.engine.begin() as conn:
        count = conn.execute(text("SELECT COUNT(*) FROM orders")).scalar()
        while count < ORDERS:
            low, high = conn.execute(text("SELECT MIN(created_at), MAX(created_at) FROM orders")).one()
            shift = int((high - low).total_seconds()) + 3600
            top = conn.execute(text("SELECT MAX(id) FROM orders")).scalar()
            conn.execute(text(
                "INSERT INTO orders (order_sn, goods_id, title, type, buy_amount, actual_price, "
                "search_pwd, email, info, pay_id, buy_ip, trade_no, status, created_at, "
                "updated_at) SELECT CONCAT('D', id + :top), goods_id, title, type, buy_amount, "
                "actual_price, search_pwd, CONCAT('u', id + :top, '.', email), "
                "REPLACE(info, '----', CONCAT('-', id + :top, '----')), pay_id, "
                "CONCAT('10.', (id + :top) DIV 65536 MOD 256, '.', (id + :top) DIV 256 MOD 256, "
                "'.', (id + :top) MOD 256), CONCAT(trade_no, 'X', id + :top), status, "
                "created_at + INTERVAL :shift SECOND, updated_at + INTERVAL :shift SECOND "
                "FROM orders ORDER BY id LIMIT :room"), {"top": top, "shift": shift,
                                                        "room": ORDERS - count})
            count = conn.execute(text("SELECT COUNT(*) FROM orders")).scalar()
        conn.execute(text("ANALYZE TABLE orders"))
    return count


def query_classes(store, engine, rng: random.Random):
    """(name, function making one SearchQuery) for each class, on random existing orders."""
    from sqlalchemy import text

    from adapters.base import SearchQuery

    with engine.connect() as conn:
        top = conn.execute(text("SELECT MAX(id) FROM orders")).scalar()
        picks = conn.execute(text(
            "SELECT order_sn, email, trade_no, buy_ip, info, actual_price, created_at FROM orders "
            "WHERE id IN :ids AND type = 1 AND info IS NOT NULL AND trade_no <> ''"), {
                "ids": tuple(rng.sample(range(1, top + 1), 3000))}).all()
    picked = list(picks)
    zone = store.clock

    def pick():
        return rng.choice(picked)

    def serial(row) -> str:
        return row.info.splitlines()[0].split("----")[0]

    def window(row):
        at = zone.read(row.created_at)
        return SearchQuery(amount_min=row.actual_price, amount_max=row.actual_price,
                           created_from=at - timedelta(hours=12),
                           created_to=at + timedelta(hours=12), limit=100)

    return [
        ("order number", lambda: SearchQuery(keys=(pick().order_sn,))),
        ("email", lambda: SearchQuery(keys=(pick().email,))),
        ("email prefix (6 chars)", lambda: SearchQuery(substrings=(pick().email[:6],))),
        ("transaction id", lambda: SearchQuery(keys=(pick().trade_no,))),
        ("buyer IP", lambda: SearchQuery(keys=(pick().buy_ip,))),
        ("card key in info", lambda: SearchQuery(keys=(serial(pick()),))),
        ("amount + 1-day window", lambda: window(pick())),
        ("status only", lambda: SearchQuery(statuses=frozenset({"failed"}), limit=100)),
    ]


def baseline_ms(engine, fragments: list[str]) -> float:
    from sqlalchemy import text

    times = []
    with engine.connect() as conn:
        for fragment in fragments:
            started = time.perf_counter()
            conn.execute(text("SELECT id FROM orders WHERE email LIKE :f LIMIT 100"),
                         {"f": f"%{fragment}%"}).all()
            times.append((time.perf_counter() - started) * 1000)
    return median(times)


def measure(url: str, label: str, report) -> list[list[object]]:
    from adapters import build_order_store

    store = build_order_store("dujiaoka", url)
    rng = random.Random(11)
    rows = []
    try:
        classes = query_classes(store, store.engine, rng)
        for name, make in classes:
            times, found = [], 0
            for _ in range(SAMPLES):
                query = make()
                started = time.perf_counter()
                found += bool(store.search(query))
                times.append((time.perf_counter() - started) * 1000)
            rows.append([label, name, round(median(times), 2), round(percentile(times, 95), 2),
                         f"{found / SAMPLES:.0%}"])
        scan = baseline_ms(store.engine, [f"x{rng.randrange(10**6)}q" for _ in range(15)])
        rows.append([label, "baseline: email LIKE '%…%' (full scan)", round(scan, 2), "", ""])
    finally:
        store.close()
    return rows


def run(store_path, report) -> None:
    """The benchmark (``store_path`` unused: it makes its own dujiaoka databases)."""
    from adapters.demo_data import generate_orders
    from tests.dujiaoka.shop import DujiaokaShop, fresh_dujiaoka_database
    from tests.servers import running_mariadb

    report.heading("dujiaoka search (MariaDB)")
    orders = list(generate_orders(SEED_ORDERS, seed=5))
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory() as tmp, running_mariadb(tmp) as server:
        for indexed in (False, True):
            with fresh_dujiaoka_database(server) as url:
                shop = DujiaokaShop(url)
                count = fill(shop, orders)
                if indexed:
                    from sqlalchemy import text

                    from adapters.dujiaoka import store_indexes_ddl
                    from tests.dujiaoka.shop import statements
                    with shop.engine.begin() as conn:
                        for statement in statements(store_indexes_ddl() + "\n"):
                            conn.execute(text(statement))
                shop.close()
                label = "with store-indexes" if indexed else "dujiaoka's indexes only"
                rows += measure(url, label, report)
    report.line(f"{count:,} orders, {SAMPLES} searches per class, one at a time; "
                "found = share of searches that found an order.")
    report.table(["database", "query", "p50 ms", "p95 ms", "found"], rows)


if __name__ == "__main__":
    from tests.bench.run import Report
    run(None, Report())
