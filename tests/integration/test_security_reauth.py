"""Money-moving actions and reveals ask for the password again; reveals are separate POSTs
with a reason, never cached, limited per agent per hour, and impossible for some roles."""
from __future__ import annotations

import time

import pytest

from console.extensions import db
from console.models import AuditRecord
from tests.conftest import PASSWORDS, csrf_from, make_app
from tests.integration.test_order_detail import make_order

REASON = {"what": "contact", "reason": "customer asked for a call back"}


@pytest.fixture
def secure_app(tmp_path, request):
    extra = getattr(request, "param", {})
    app = make_app(tmp_path, **extra)
    with app.app_context():
        from console.people import save_user
        from console.store import get_store
        for name, password in PASSWORDS.items():
            save_user(name, name, password)
        get_store().load([make_order()])
    yield app
    from console.store import EXTENSION_KEY
    app.extensions[EXTENSION_KEY].close()


def signed_in(app, name: str = "agent"):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"name": name, "password": PASSWORDS[name], "csrf_token": token})
    return client, csrf_from(client.get("/").get_data(as_text=True))


def kinds(app) -> list[str]:
    with app.app_context():
        return [r.kind for r in db.session.execute(
            db.select(AuditRecord).order_by(AuditRecord.id)).scalars()]


def later(monkeypatch, minutes: float) -> None:
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + minutes * 60)


def test_old_login_must_type_the_password_before_a_refund(secure_app, monkeypatch):
    client, csrf = signed_in(secure_app)
    later(monkeypatch, 11)
    headers = {"X-CSRFToken": csrf, "Idempotency-Key": "r-1"}
    body = {"amount": "10.00", "reason": "late"}
    refused = client.post("/api/orders/KDT0001/refund", json=body, headers=headers)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "reauth_required"
    assert "refund" not in kinds(secure_app)
    wrong = client.post("/api/reauth", json={"password": "nope-nope"}, headers=headers)
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "wrong_password"
    ok = client.post("/api/reauth", json={"password": PASSWORDS["agent"]}, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["valid_for_minutes"] == 10
    done = client.post("/api/orders/KDT0001/refund", json=body, headers=headers)
    assert done.status_code == 200, done.get_json()
    assert kinds(secure_app)[-2:] == ["reauth", "refund"]


def test_reveal_needs_a_recent_password_too(secure_app, monkeypatch):
    client, csrf = signed_in(secure_app)
    assert client.post("/api/orders/KDT0001/reveal", json=REASON,
                       headers={"X-CSRFToken": csrf}).status_code == 200
    later(monkeypatch, 10.5)
    answer = client.post("/api/orders/KDT0001/reveal", json=REASON, headers={"X-CSRFToken": csrf})
    assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "reauth_required"


def test_a_remembered_login_is_not_fresh(secure_app):
    client = secure_app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"name": "agent", "password": PASSWORDS["agent"],
                                "remember": "y", "csrf_token": token})
    remember = client.get_cookie("__Host-kamidesk_remember").value
    other = secure_app.test_client()
    other.set_cookie("__Host-kamidesk_remember", remember, secure=True, path="/")
    csrf = csrf_from(other.get("/").get_data(as_text=True))
    answer = other.post("/api/orders/KDT0001/reveal", json=REASON, headers={"X-CSRFToken": csrf})
    assert answer.get_json()["error"]["code"] == "reauth_required"


def test_reveal_is_a_post_with_a_reason_and_is_never_cached(secure_app):
    client, csrf = signed_in(secure_app)
    assert client.get("/api/orders/KDT0001/reveal").status_code == 405
    missing = client.post("/api/orders/KDT0001/reveal", json={"what": "contact"},
                          headers={"X-CSRFToken": csrf})
    assert missing.status_code == 400
    assert missing.get_json()["error"]["code"] == "reason_required"
    shown = client.post("/api/orders/KDT0001/reveal", json=REASON, headers={"X-CSRFToken": csrf})
    assert shown.get_json()["phone"] == "13900001111"
    assert shown.headers["Cache-Control"] == "no-store"
    with secure_app.app_context():
        record = db.session.execute(db.select(AuditRecord).where(
            AuditRecord.kind == "reveal_contact")).scalar_one()
        assert record.detail["reason"] == REASON["reason"]


@pytest.mark.parametrize("secure_app", [{"RATELIMIT_ENABLED": True,
                                         "REVEAL_RATE_LIMIT": "3 per hour"}], indirect=True)
def test_reveals_per_agent_per_hour_then_429(secure_app):
    client, csrf = signed_in(secure_app)
    answers = [client.post("/api/orders/KDT0001/reveal", json=REASON,
                           headers={"X-CSRFToken": csrf}).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert kinds(secure_app).count("reveal_contact") == 3
    assert kinds(secure_app)[-1] == "reveal_refused"
    other, csrf2 = signed_in(secure_app, "supervisor")  # the budget is the agent's own
    assert other.post("/api/orders/KDT0001/reveal", json=REASON,
                      headers={"X-CSRFToken": csrf2}).status_code == 200


@pytest.mark.parametrize("secure_app", [{"NO_REVEAL_ROLES": ("agent",)}], indirect=True)
def test_roles_that_can_never_reveal(secure_app):
    client, csrf = signed_in(secure_app)
    refused = client.post("/api/orders/KDT0001/reveal", json=REASON,
                          headers={"X-CSRFToken": csrf})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "reveal_forbidden"
    assert "reveal_contact" not in kinds(secure_app)
    supervisor, csrf2 = signed_in(secure_app, "supervisor")
    assert supervisor.post("/api/orders/KDT0001/reveal", json=REASON,
                           headers={"X-CSRFToken": csrf2}).status_code == 200
