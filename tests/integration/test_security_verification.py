"""Guessing a customer's phone tail in the widget, as the probe did it, now stops at 429.

The probe rotated conversations and source addresses and found a tail in 138 guesses;
19 parallel wrong guesses on one conversation all got the normal 403.  Each test below
is one of those attacks.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from console.extensions import db
from console.models import AuditRecord
from tests.conftest import make_app, sample_orders
from tests.e2e.live import serving


def audit_kinds(app) -> list[str]:
    with app.app_context():
        return [r.kind for r in db.session.execute(
            db.select(AuditRecord).order_by(AuditRecord.id)).scalars()]


def wrong_tail(order) -> str:
    return str((int(order.buyer.phone[-4:]) + 1) % 10000).zfill(4)


def new_widget(client, address: str = "198.51.100.1") -> dict:
    answer = client.post("/api/widget/sessions", json={}, environ_base={"REMOTE_ADDR": address})
    assert answer.status_code == 201, answer.json
    return {"Authorization": f"Bearer {answer.json['token']}"}


def guess(client, headers, order_no: str, tail: str, address: str = "198.51.100.1"):
    return client.post("/api/widget/verify-order", headers=headers,
                       json={"order_no": order_no, "phone_tail": tail},
                       environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def order(loaded_store, demo_orders):
    return next(o for o in demo_orders if o.buyer.phone)


def test_five_wrong_answers_per_session_then_429_audited(app, client, order):
    headers = new_widget(client)
    answers = [guess(client, headers, order.order_no, wrong_tail(order)) for _ in range(5)]
    assert [a.status_code for a in answers] == [403] * 5
    locked = guess(client, headers, order.order_no, order.buyer.phone[-4:])
    assert locked.status_code == 429
    assert locked.json["error"]["code"] == "too_many_attempts"
    assert "agent" in locked.json["error"]["message"]
    assert int(locked.headers["Retry-After"]) > 60
    kinds = audit_kinds(app)
    assert kinds.count("verify_failed") == 5 and kinds.count("verify_locked") == 1


def test_new_conversations_from_one_address_share_its_limit(client, order):
    for _ in range(5):
        assert guess(client, new_widget(client), order.order_no,
                     wrong_tail(order)).status_code == 403
    assert guess(client, new_widget(client), order.order_no,
                 wrong_tail(order)).status_code == 429


def test_rotating_sessions_and_addresses_hits_the_per_order_ceiling(client, order):
    """The probe's attack: a fresh conversation from a fresh address for every guess."""
    statuses = []
    for attempt in range(12):
        address = f"203.0.113.{attempt + 1}"
        statuses.append(guess(client, new_widget(client, address), order.order_no,
                              str(attempt).zfill(4) if str(attempt).zfill(4)
                              != order.buyer.phone[-4:] else "9999", address).status_code)
    assert statuses[:10] == [403] * 10 and statuses[10:] == [429, 429]
    right = guess(client, new_widget(client, "192.0.2.77"), order.order_no,
                  order.buyer.phone[-4:], "192.0.2.77")
    assert right.status_code == 429  # even the right tail waits: the order is locked


def test_a_right_answer_does_not_use_the_allowance(client, demo_orders, loaded_store):
    phones = [o for o in demo_orders if o.buyer.phone][:2]
    headers = new_widget(client)
    for _ in range(4):
        assert guess(client, headers, phones[0].order_no, wrong_tail(phones[0])).status_code == 403
    assert guess(client, headers, phones[1].order_no,
                 phones[1].buyer.phone[-4:]).status_code == 200
    assert guess(client, headers, phones[0].order_no, wrong_tail(phones[0])).status_code == 403
    assert guess(client, headers, phones[0].order_no, wrong_tail(phones[0])).status_code == 429


def test_global_ceiling_stops_guessing_spread_over_many_orders(tmp_path):
    app = make_app(tmp_path, VERIFY_GLOBAL_LIMIT="3 per hour")
    orders = [o for o in sample_orders(60) if o.buyer.phone][:5]
    with app.app_context():
        from console.store import get_store
        get_store().load(orders)
    client = app.test_client()
    statuses = [guess(client, new_widget(client, f"192.0.2.{i}"), o.order_no, wrong_tail(o),
                      f"192.0.2.{i}").status_code for i, o in enumerate(orders[:4])]
    assert statuses == [403, 403, 403, 429]
    assert "paused" in guess(client, new_widget(client, "192.0.2.99"), orders[4].order_no,
                             orders[4].buyer.phone[-4:], "192.0.2.99").json["error"]["message"]


def test_an_overlong_order_number_is_refused_before_counting(client):
    headers = new_widget(client)
    answer = guess(client, headers, "K" * 4000, "1234")
    assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_order_no"


def parallel_guesses(base: str, order, count: int = 19) -> list[int]:
    token = requests.post(f"{base}/api/widget/sessions", json={}, timeout=10).json()["token"]
    start = threading.Barrier(count)

    def one(_i: int) -> int:
        start.wait()
        return requests.post(f"{base}/api/widget/verify-order", timeout=60,
                             headers={"Authorization": f"Bearer {token}"},
                             json={"order_no": order.order_no,
                                   "phone_tail": wrong_tail(order)}).status_code
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


@pytest.mark.parametrize("console_db", ["sqlite", "postgres"])
def test_parallel_wrong_guesses_cannot_all_pass(tmp_path, request, console_db):
    """19 guesses at once on one conversation, through a real threaded server."""
    extra = {}
    if console_db == "postgres":
        extra["DATABASE_URL"] = request.getfixturevalue("pg_console_url")
    app = make_app(tmp_path, **extra)
    orders = [o for o in sample_orders(40) if o.buyer.phone][:1]
    with app.app_context():
        from console.store import get_store
        get_store().load(orders)
    with serving(app) as base:
        statuses = parallel_guesses(base, orders[0])
    assert sorted(set(statuses)) == [403, 429]
    assert statuses.count(403) == 5 and statuses.count(429) == 14
    assert audit_kinds(app).count("verify_failed") == 5
