"""The benchmarks' reference store: a million demo orders on SQLite, built once, then reused.

Building takes minutes (generate, load, index), so the store is cached under
``.bench/`` in the checkout, named by its size and seed; a finished build
is marked by a ``.done`` file so an interrupted one is never mistaken for whole.
``BENCH_ORDERS=N`` picks a smaller store for a quick run.

    python tests/bench/bigstore.py          # build (or find) the store, print its path
"""
from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_DIR = ROOT / ".bench"
DEFAULT_ORDERS = 1_000_000
SEED = 2026
# Fixed, so the cached store never goes stale; bench queries spell dates out in full.
STORE_NOW = datetime(2026, 11, 25, 4, 0, tzinfo=timezone.utc)


def wanted_orders() -> int:
    """``BENCH_ORDERS`` from the environment (``200_000`` and ``2e5`` are fine), else a million."""
    raw = os.environ.get("BENCH_ORDERS", "").replace("_", "").strip()
    return int(float(raw)) if raw else DEFAULT_ORDERS


def store_path(orders: int) -> Path:
    return BENCH_DIR / f"store-{orders}-s{SEED}.db"


def size_on_disk(path: Path) -> int:
    """The database and its WAL/SHM files, in bytes."""
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")
               if p.is_file() and not p.name.endswith(".done"))


def ensure_store(orders: int | None = None, log=print) -> Path:
    """Path of a finished store with ``orders`` demo orders, building it when missing."""
    from adapters.demo_data import generate_orders
    from adapters.sql.store import SqlOrderStore

    orders = wanted_orders() if orders is None else orders
    path = store_path(orders)
    done = path.with_name(path.name + ".done")
    if done.exists() and path.exists():
        log(f"store: {path.relative_to(ROOT)} ({orders:,} orders, "
            f"{size_on_disk(path) / 2**20:,.0f} MiB, cached)")
        return path
    BENCH_DIR.mkdir(exist_ok=True)
    for stale in BENCH_DIR.glob(path.name + "*"):
        stale.unlink()
    log(f"store: building {orders:,} orders in {path.relative_to(ROOT)} …")
    started = time.perf_counter()
    store = SqlOrderStore(f"sqlite:///{path}")
    loaded = [0]

    def progress(count: int) -> None:
        loaded[0] += count
        if loaded[0] % 100_000 < count:
            log(f"  {loaded[0]:>9,} orders  {time.perf_counter() - started:6.0f} s")

    store.load(generate_orders(orders, seed=SEED, now=STORE_NOW), upsert=False, on_batch=progress)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    elapsed = time.perf_counter() - started
    done.write_text(f"{orders} orders in {elapsed:.0f} s\n", encoding="ascii")
    log(f"store: built {orders:,} orders in {elapsed:,.0f} s "
        f"({orders / elapsed:,.0f} orders/s), {size_on_disk(path) / 2**20:,.0f} MiB on disk")
    return path


if __name__ == "__main__":
    print(ensure_store())
