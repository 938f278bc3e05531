"""Agents racing on one order through a live server: money goes out once.

Each thread is its own HTTP client against a threaded server, on SQLite (console and
store) and on PostgreSQL (console and store, separate databases).
"""
from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests
from werkzeug.serving import make_server

from tests.conftest import make_app
from tests.order_factory import load, make_order

AGENTS = [f"agent{i}" for i in range(6)]


@pytest.fixture(params=["sqlite", "postgres"])
def live(request, tmp_path):
    """(base URL, store, tokens by agent name) of a threaded live server."""
    extra = {}
    if request.param == "postgres":
        extra = {"DATABASE_URL": request.getfixturevalue("pg_console_url"),
                 "STORE_URL": request.getfixturevalue("pg_store_url")}
    app = make_app(tmp_path, **extra)
    with app.app_context():
        from console.people import issue_token, save_user
        from console.store import get_store
        tokens = {}
        for name in AGENTS:
            save_user(name, "agent", "pass-" + name)
            tokens[name] = issue_token(name, "race")
        store = get_store()
        load(store, make_order("RACE-1", status="delivered", keys=1))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", store, tokens
    server.shutdown()
    store.close()


def refund(base: str, token: str, key: str, amount: str = "98.50") -> requests.Response:
    return requests.post(f"{base}/api/orders/RACE-1/refund", timeout=60,
                         json={"amount": amount, "reason": "race"},
                         headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})


def test_agents_refunding_at_once_produce_one_refund(live):
    base, store, tokens = live
    gate = threading.Barrier(len(AGENTS))

    def attempt(name: str) -> tuple[int, str]:
        gate.wait()
        got = refund(base, tokens[name], uuid.uuid4().hex)
        return got.status_code, (got.json().get("error") or {}).get("code", "ok")

    with ThreadPoolExecutor(len(AGENTS)) as pool:
        results = Counter(pool.map(attempt, AGENTS))
    assert results[(200, "ok")] == 1, results
    assert set(results) - {(200, "ok")} <= {(409, "over_refund"), (409, "not_allowed")}
    order = store.get("RACE-1")
    assert order.refunded_amount == Decimal("98.50")
    assert [e.kind for e in order.events].count("refunded") == 1


def test_one_key_sent_many_times_at_once_refunds_once(live):
    base, store, tokens = live
    gate = threading.Barrier(6)

    def attempt(_: int) -> tuple[int, dict]:
        gate.wait()
        got = refund(base, tokens["agent0"], "the-same-key", amount="10.00")
        return got.status_code, got.json()

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(attempt, range(6)))
    assert {status for status, _ in answers} == {200}
    assert len({body["action"]["id"] for _, body in answers}) == 1
    assert store.get("RACE-1").refunded_amount == Decimal("10.00")
