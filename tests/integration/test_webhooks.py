"""``POST /api/webhooks/orders``: signed, replay-proof, and read back like ``changed_since``."""
from __future__ import annotations

import json
import secrets
import time

import pytest

from adapters.base import OrderChange
from console import signals
from console.webhooks.inbox import pushed_since
from console.webhooks.signature import WINDOW, sign
from tests.conftest import make_app

SECRET = "shop-webhook-secret"
CHANGE = {"order_no": "KD-W-1", "status": "delivered", "at": "2026-12-02T10:00:00+00:00"}


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path, WEBHOOK_SECRET=SECRET)


def deliver(client, payload: object, *, secret: str = SECRET, stamp: int | None = None,
            nonce: str | None = None, signature: str | None = None, body: bytes | None = None):
    raw = body if body is not None else json.dumps(payload).encode()
    stamp = int(time.time()) if stamp is None else stamp
    nonce = nonce or secrets.token_hex(12)
    headers = {"Content-Type": "application/json", "X-Kamidesk-Timestamp": str(stamp),
               "X-Kamidesk-Nonce": nonce,
               "X-Kamidesk-Signature": signature or sign(secret, stamp, nonce, raw)}
    return client.post("/api/webhooks/orders", data=raw, headers=headers)


def queued(app, cursor: str | None = "0"):
    from console.extensions import db
    with app.app_context():
        return pushed_since(db.session, cursor)


def test_a_signed_delivery_is_queued_for_the_watcher(app):
    heard = []

    def listener(sender, changes):
        heard.extend(changes)
    signals.order_pushed.connect(listener)
    try:
        answer = deliver(app.test_client(), {"changes": [CHANGE, {**CHANGE, "order_no": "KD-W-2",
                                                                 "status": "failed"}]})
    finally:
        signals.order_pushed.disconnect(listener)
    assert answer.status_code == 202 and answer.get_json() == {"accepted": 2}
    changes, cursor = queued(app)
    assert [(c.order_no, c.status) for c in changes] == [("KD-W-1", "delivered"),
                                                         ("KD-W-2", "failed")]
    assert changes[0].at.isoformat() == "2026-12-02T10:00:00+00:00"
    assert [c.order_no for c in heard] == ["KD-W-1", "KD-W-2"]
    assert queued(app, cursor) == ([], cursor)  # read once, like changed_since


def test_a_watcher_starting_now_sees_only_later_pushes(app):
    client = app.test_client()
    deliver(client, {"changes": [CHANGE]})
    nothing, cursor = queued(app, None)
    assert nothing == []
    deliver(client, {"changes": [{**CHANGE, "order_no": "KD-W-3"}]})
    later, _ = queued(app, cursor)
    assert [c.order_no for c in later] == ["KD-W-3"]
    assert isinstance(later[0], OrderChange)


def test_a_replayed_delivery_is_refused_and_queues_nothing(app):
    client = app.test_client()
    body = json.dumps({"changes": [CHANGE]}).encode()
    stamp, nonce = int(time.time()), "n" * 20
    assert deliver(client, None, body=body, stamp=stamp, nonce=nonce).status_code == 202
    again = deliver(client, None, body=body, stamp=stamp, nonce=nonce)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "replayed_nonce"
    assert len(queued(app)[0]) == 1


@pytest.mark.parametrize("tamper,code", [
    ({"secret": "wrong-secret"}, "bad_signature"),
    ({"signature": "sha256=" + "0" * 64}, "bad_signature"),
    ({"shift": -WINDOW - 60}, "stale_timestamp"),
    ({"shift": WINDOW + 60}, "stale_timestamp"),
    ({"nonce": "short"}, "bad_nonce"),
])
def test_bad_signatures_and_stale_deliveries_are_refused(app, tamper, code):
    tamper = dict(tamper)
    if "shift" in tamper:  # stamped now, not at collection: a slow run must not age it
        tamper["stamp"] = int(time.time()) + tamper.pop("shift")
    answer = deliver(app.test_client(), {"changes": [CHANGE]}, **tamper)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == code
    assert queued(app)[0] == []


def test_a_body_changed_after_signing_is_refused(app):
    client = app.test_client()
    stamp, nonce = int(time.time()), secrets.token_hex(12)
    signed = sign(SECRET, stamp, nonce, json.dumps({"changes": [CHANGE]}).encode())
    forged = json.dumps({"changes": [{**CHANGE, "status": "refunded"}]}).encode()
    answer = deliver(client, None, body=forged, stamp=stamp, nonce=nonce, signature=signed)
    assert answer.get_json()["error"]["code"] == "bad_signature"


def test_unsigned_requests_are_refused(app):
    answer = app.test_client().post("/api/webhooks/orders", json={"changes": [CHANGE]})
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "unsigned"


@pytest.mark.parametrize("payload", [
    {"changes": []}, {"changes": "x"}, [CHANGE], {"changes": [{"order_no": "X"}]},
    {"changes": [{**CHANGE, "status": "teleported"}]},
    {"changes": [{**CHANGE, "at": "2026-12-02T10:00:00"}]},  # no offset
])
def test_malformed_changes_are_refused_whole(app, payload):
    answer = deliver(app.test_client(), payload)
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] in ("invalid_body", "invalid_change")
    assert queued(app)[0] == []


def test_without_a_secret_the_endpoint_is_off(tmp_path):
    app = make_app(tmp_path)
    answer = deliver(app.test_client(), {"changes": [CHANGE]})
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "webhooks_disabled"


def test_the_order_watcher_reads_pushed_changes_like_changed_since(app, store):
    """An order the store's changes feed does not report (its update is older than the
    watcher's baseline) is flagged as stuck once the shop pushes it."""
    from datetime import timedelta

    from console.extensions import db
    from console.watching.watcher import build_watcher
    from tests.conftest import FIXED_NOW, sample_orders

    order = next(o for o in sample_orders(80) if o.product.category == "phone_topup")
    old = FIXED_NOW - timedelta(days=3)
    store.load([order.replace(order_no="KD-PUSH-1", status="processing", created_at=old,
                              paid_at=old, updated_at=old, card_keys=(), events=())])
    watcher = build_watcher(app)
    with app.app_context():
        assert "KD-PUSH-1" not in watcher.tick(db.session, now=FIXED_NOW).flagged
    pushed = {"order_no": "KD-PUSH-1", "status": "processing",
              "at": (FIXED_NOW - timedelta(hours=2)).isoformat(), "category": "phone_topup"}
    assert deliver(app.test_client(), {"changes": [pushed]}).status_code == 202
    with app.app_context():
        report = watcher.tick(db.session, now=FIXED_NOW + timedelta(seconds=5))
    assert "KD-PUSH-1" in report.flagged
    assert report.changes >= 1
