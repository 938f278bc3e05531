"""Secrets and contacts: never kept where they need not be, never shown unmasked by default."""
from __future__ import annotations

import json
import logging

import requests

from console.extensions import db
from tests.e2e.live import serving
from tests.integration.test_actions_api import api, audit_kinds, shop  # noqa: F401 (fixtures)
from tests.order_factory import KEY_CARD, stock


def test_reissued_secret_is_not_kept_and_a_replay_is_an_audited_reveal(app, shop, api):  # noqa: F811
    shelf = stock(shop, KEY_CARD, 2)
    first = api("POST", "/api/orders/A-DELIV/reissue", body={"reason": "dead key"}, key="k-1")
    secret = first.json["action"]["new_keys"][0]["secret"]
    assert secret == shelf[0] + "-SECRET"
    with app.app_context():
        from console.actions.models import IdempotencyRecord
        stored = db.session.execute(db.select(IdempotencyRecord)).scalars().all()
        assert stored and all(secret not in json.dumps(r.response) for r in stored)
    replay = api("POST", "/api/orders/A-DELIV/reissue", body={"reason": "dead key"}, key="k-1")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json["action"]["new_keys"][0]["secret"] == secret
    assert replay.json == first.json  # the same answer, the key read again
    assert audit_kinds(app, "A-DELIV") == ["reissue", "reveal_key"]
    with app.app_context():
        from console.models import AuditRecord
        reveal = db.session.execute(db.select(AuditRecord).where(
            AuditRecord.kind == "reveal_key")).scalar_one()
        assert reveal.detail["via"] == "reissue_replay" and secret not in json.dumps(reveal.detail)


def test_contact_looking_account_and_payer_are_masked_like_phones(client, token_for, store):
    from tests.order_factory import load, make_order
    order = make_order("A-ACCT", status="delivered")
    from dataclasses import replace

    from adapters.base import Buyer
    order = replace(order, buyer=Buyer(account="13812345678", phone="13812345678",
                                       email="li@example.com"),
                    payment=replace(order.payment, payer="li.pay@example.com")
                    if order.payment else None)
    load(store, order)
    headers = {"Authorization": f"Bearer {token_for('agent')}"}
    shown = client.get("/api/orders/A-ACCT", headers=headers).json
    assert shown["buyer"]["account"] == shown["buyer"]["phone"] == "138****5678"
    if shown["payment"]:
        assert shown["payment"]["payer"] == "l***@example.com"
    found = client.get("/api/orders/search?q=A-ACCT", headers=headers).json["results"]
    assert found and "13812345678" not in json.dumps(found)
    page = client.get("/api/orders/A-ACCT", headers=headers).get_data(as_text=True)
    assert "13812345678" not in page


def test_access_log_has_no_engineio_sid_or_search_text(app, caplog):
    """The probe read Engine.IO sids and agents' search text in the access log."""
    caplog.set_level(logging.INFO, logger="werkzeug")
    from tests.conftest import PASSWORDS
    with serving(app) as base:
        session = requests.Session()
        login = session.get(f"{base}/login").text
        from tests.conftest import csrf_from
        session.post(f"{base}/login", data={"name": "agent", "password": PASSWORDS["agent"],
                                            "csrf_token": csrf_from(login)})
        session.get(f"{base}/api/orders/search", params={"q": "13812345678 wang@example.com"})
        handshake = requests.get(f"{base}/socket.io/", params={"EIO": "4", "transport": "polling"})
        sid = json.loads(handshake.text[1:])["sid"]
        requests.get(f"{base}/socket.io/", params={"EIO": "4", "transport": "polling",
                                                   "sid": sid})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/api/orders/search" in logged and "/socket.io/" in logged  # requests are logged
    assert "13812345678" not in logged and "wang" not in logged
    assert sid not in logged
