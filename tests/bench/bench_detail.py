"""Order detail benchmark: p95 of ``GET /api/orders/<no>`` and ``GET /orders/<no>`` over HTTP.

The console runs as it does in production (gunicorn, threads, a separate process)
against the benchmark store; one signed-in client asks for random orders, one request
at a time, and each request is timed end to end.  The *floor* is ``GET /healthz`` (a
trivial answer through the same server and client), measured interleaved with the
detail calls so both see the same machine.  Target: detail p95 ≤ 30 ms.

    python tests/bench/bench_detail.py              # on the bench store (BENCH_ORDERS=N)
    python tests/bench/bench_detail.py path/to/store.db
"""
from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_P95_MS = 30.0
SAMPLES = int(os.environ.get("BENCH_DETAIL_SAMPLES", "400"))
WARMUP = 40
SEED = 4
PASSWORD = "bench-pass-1"


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: a p95 is a latency someone really got)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def figures(samples: list[float]) -> dict[str, float]:
    return {"n": len(samples), "p50": median(samples), "p95": percentile(samples, 95),
            "p99": percentile(samples, 99), "max": max(samples)}


def pick_orders(store_url: str, count: int) -> list[str]:
    """Random order numbers spread over the whole store (rowid lookups, so this is quick)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(store_url)
    with engine.connect() as conn:
        top = conn.execute(text("SELECT max(id) FROM orders")).scalar_one()
        rng = random.Random(SEED)
        ids = rng.sample(range(1, top + 1), min(count * 2, top))
        rows = conn.execute(text(f"SELECT order_no FROM orders WHERE id IN ({','.join(map(str, ids))})"))
        found = [r[0] for r in rows]
    engine.dispose()
    rng.shuffle(found)
    return found[:count]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_console(instance: Path, store_url: str, sample: list[str]) -> dict[str, str]:
    """A console DB with a bench agent and some notes and tags, so those reads do real work."""
    env = {"KAMIDESK_INSTANCE": str(instance),
           "KAMIDESK_DATABASE_URL": f"sqlite:///{instance / 'console.db'}",
           "KAMIDESK_STORE_URL": store_url, "KAMIDESK_SECRET_KEY": "bench-secret",
           "KAMIDESK_LOGIN_RATE_LIMIT": "1000 per minute"}
    from console import create_app
    app = create_app({"INSTANCE": str(instance), "DATABASE_URL": env["KAMIDESK_DATABASE_URL"],
                      "STORE_URL": store_url, "SECRET_KEY": "bench-secret"})
    with app.app_context():
        from console.extensions import db
        from console.orders.models import AgentNote, AgentTag
        from console.people import save_user
        save_user("bench", "agent", PASSWORD)
        for n, order_no in enumerate(sample[::3]):
            db.session.add(AgentNote(order_no=order_no, body=f"bench note {n}",
                                     author_name="bench"))
            db.session.add(AgentTag(order_no=order_no, tag="repeat buyer",
                                    added_by_name="bench"))
        db.session.commit()
        from console.store import EXTENSION_KEY
        store = app.extensions.get(EXTENSION_KEY)
        if store is not None:
            store.close()
    return env


def start_server(env: dict[str, str], port: int) -> subprocess.Popen:
    """gunicorn with threads, as the page/API pool runs in production."""
    command = [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4",
               "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"]
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    import requests
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:  # a slow first answer on a busy machine is waited for, not taken for a dead server
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).ok:
                return server
        except requests.RequestException:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the console did not start")


def signed_in(base: str):
    import requests
    session = requests.Session()
    page = session.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf-token" content="([^"]+)"', page)
    answer = session.post(f"{base}/login", data={"name": "bench", "password": PASSWORD,
                                                  "csrf_token": token.group(1)},
                          allow_redirects=False)
    if answer.status_code != 302:
        raise RuntimeError(f"bench sign-in failed: HTTP {answer.status_code}")
    return session


def timed(session, url: str) -> float:
    started = time.perf_counter()
    response = session.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code}")
    return elapsed


def measure(store_path: Path, samples: int = SAMPLES) -> dict[str, dict[str, float]]:
    """Serve the console on ``store_path`` and time the floor, the detail API and the page."""
    store_url = f"sqlite:///{Path(store_path).resolve()}"
    sample = pick_orders(store_url, samples + WARMUP)
    with tempfile.TemporaryDirectory(prefix="kamidesk-bench-") as folder:
        env = prepare_console(Path(folder), store_url, sample)
        port = free_port()
        server = start_server(env, port)
        try:
            base = f"http://127.0.0.1:{port}"
            session = signed_in(base)
            for order_no in sample[:WARMUP]:
                timed(session, f"{base}/api/orders/{order_no}")
                timed(session, f"{base}/orders/{order_no}")
            times: dict[str, list[float]] = {"floor": [], "api": [], "page": []}
            for order_no in sample[WARMUP:]:
                times["floor"].append(timed(session, f"{base}/healthz"))
                times["api"].append(timed(session, f"{base}/api/orders/{order_no}"))
                times["page"].append(timed(session, f"{base}/orders/{order_no}"))
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {name: figures(values) for name, values in times.items()}


LABELS = {"floor": "floor: `GET /healthz`", "api": "`GET /api/orders/<no>`",
          "page": "`GET /orders/<no>` (page)"}


def run(store_path: Path, report) -> dict[str, dict[str, float]]:
    """The harness's entry point (tests/bench/run.py): measure, then write the table."""
    report.heading("Order detail")
    report.line(f"One signed-in client, {SAMPLES} random orders, one request at a time, "
                "through gunicorn (1 worker, 4 threads); times end to end in ms. "
                f"Target: p95 ≤ {TARGET_P95_MS:.0f} ms.")
    results = measure(Path(store_path))
    floor = results["floor"]["p50"]
    rows = []
    for name, f in results.items():
        verdict = "" if name == "floor" else ("ok" if f["p95"] <= TARGET_P95_MS else "MISSED")
        rows.append([LABELS[name], f["n"], round(f["p50"], 1), round(f["p95"], 1),
                     round(f["p99"], 1), round(f["max"], 1), round(f["p95"] / floor, 1),
                     verdict])
    report.table(["request", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "p95 / floor p50",
                  "p95 target"], rows)
    return results


if __name__ == "__main__":
    from tests.bench.bigstore import ensure_store
    from tests.bench.run import Report

    run(Path(sys.argv[1]) if len(sys.argv) > 1 else ensure_store(), Report())
