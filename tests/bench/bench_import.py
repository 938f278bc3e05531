"""``kamidesk import-orders`` of a big JSONL file into a fresh store: time, rate, peak memory.

The file holds the bench store's orders (same size and seed, written once into
``.bench/`` and reused); the command runs as a user would run it, in a child
process, into a new SQLite file (and a new PostgreSQL database when a private
server can be started), and is timed from the outside.  Peak memory is the
child's maximum resident set.  A second run of the same file over the loaded
SQLite store (its first ``BENCH_UPSERT_ORDERS`` orders, 100,000 by default) shows the
upsert path.  ``BENCH_IMPORT=0`` skips this bench, ``BENCH_PG=0`` its PostgreSQL row;
``BENCH_IMPORT_ORDERS=N`` imports a smaller file.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.bigstore import BENCH_DIR, SEED, STORE_NOW, wanted_orders  # noqa: E402

TARGET_SECONDS_PER_MILLION = 120.0
UPSERT_ORDERS = int(float(os.environ.get("BENCH_UPSERT_ORDERS", "100000")))


def head_of(path: Path, lines: int, folder: Path) -> Path:
    """The first ``lines`` lines of ``path`` as a file of their own (the upsert run)."""
    part = folder / f"first-{lines}.jsonl"
    with path.open("rb") as source, part.open("wb") as target:
        for number, line in enumerate(source):
            if number == lines:
                break
            target.write(line)
    return part


def jsonl_file(orders: int, log) -> Path:
    """The demo orders as JSONL, generated once per size and seed."""
    from adapters.demo_data import generate_orders
    from adapters.orders_jsonl import write_jsonl

    path = BENCH_DIR / f"orders-{orders}-s{SEED}.jsonl"
    done = path.with_name(path.name + ".done")
    if path.exists() and done.exists():
        return path
    BENCH_DIR.mkdir(exist_ok=True)
    started = time.perf_counter()
    write_jsonl(generate_orders(orders, seed=SEED, now=STORE_NOW), path)
    done.write_text("ok\n", encoding="ascii")
    log(f"wrote {path.name} ({path.stat().st_size / 2**20:,.0f} MiB) in "
        f"{time.perf_counter() - started:,.0f} s")
    return path


def run_import(path: Path, store_url: str, folder: Path) -> dict[str, float]:
    """One ``kamidesk import-orders --quiet`` in a child process, measured from outside."""
    env = {**os.environ, "KAMIDESK_INSTANCE": str(folder), "KAMIDESK_STORE_URL": store_url,
           "KAMIDESK_DATABASE_URL": f"sqlite:///{folder / 'console.db'}"}
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK_REPORTING_CLI, "import-orders", str(path),
                           "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"import failed ({done.returncode}): {done.stderr[-2000:]}")
    peak = int(done.stderr.strip().splitlines()[-1].removeprefix("peak_kib="))
    return {"seconds": elapsed, "peak_kib": peak,
            "load_before": load_before, "load_after": os.getloadavg()[0],
            "line": done.stdout.strip().splitlines()[-1]}


# the ``kamidesk`` command, telling its own peak resident set on the way out
PEAK_REPORTING_CLI = """
import resource, sys
from console.cli import main
try:
    main(sys.argv[1:], prog_name="kamidesk")
finally:
    print(f"peak_kib={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
"""


def _postgres():
    """A private PostgreSQL (its own data folder) when one can be started, else None."""
    try:
        from tests import servers
        if servers.find_postgres_bin() is None:
            return None
        return servers.running_postgres(tempfile.mkdtemp(prefix="kamidesk-bench-pg-"))
    except Exception:  # noqa: BLE001 - no PostgreSQL here: the SQLite row still stands
        return None


def run(store_path: Path, report) -> None:
    if os.environ.get("BENCH_IMPORT", "1") == "0":
        return
    orders = int(float(os.environ.get("BENCH_IMPORT_ORDERS", "0") or 0)) or wanted_orders()
    report.heading("Import")
    path = jsonl_file(orders, report.line)
    size = path.stat().st_size
    folder = Path(tempfile.mkdtemp(prefix="kamidesk-bench-import-", dir=BENCH_DIR))
    rows = []
    try:
        url = f"sqlite:///{folder / 'store.db'}"
        rows.append(["SQLite, empty store (bulk)", orders, run_import(path, url, folder)])
        part = head_of(path, min(orders, UPSERT_ORDERS), folder)
        rows.append([f"SQLite, its first {min(orders, UPSERT_ORDERS):,} orders again (upsert)",
                     min(orders, UPSERT_ORDERS), run_import(part, url, folder)])
        pg = _postgres() if os.environ.get("BENCH_PG", "1") != "0" else None
        if pg is not None:
            with pg as pg_url:
                rows.append(["PostgreSQL, empty store (bulk)", orders,
                             run_import(path, pg_url, folder)])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    table = []
    for name, count, r in rows:
        table.append([name, f"{count:,}", round(r["seconds"], 1),
                      f"{count / r['seconds']:,.0f}",
                      f"{size * count / orders / r['seconds'] / 2**20:,.1f}",
                      f"{r['peak_kib'] / 1024:,.0f}",
                      f"{r['load_before']:.1f} → {r['load_after']:.1f}"])
    report.table(["run", "orders", "seconds", "orders/s", "MiB/s", "peak RSS MiB",
                  "load average (1 min)"], table)
    bulk = rows[0][2]["seconds"] * 1_000_000 / orders
    report.line(f"File: {size / 2**20:,.0f} MiB JSONL. Target: a million orders in ≤ "
                f"{TARGET_SECONDS_PER_MILLION:.0f} s — SQLite bulk import at this rate takes "
                f"{bulk:,.0f} s per million {'✅' if bulk <= TARGET_SECONDS_PER_MILLION else '❌'}.")
    report.line("Peak RSS is the import process's own maximum resident set "
                "(`getrusage`), so flat memory shows as the same figure at any file size.")


if __name__ == "__main__":
    from tests.bench.run import Report
    run(Path(), Report())
