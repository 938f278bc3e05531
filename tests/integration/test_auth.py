"""Sign-in, roles, tokens and the JSON error shape, through the real app and SQLite."""
from __future__ import annotations

from console.extensions import db
from console.models import ApiToken, AuditRecord


def audit_kinds(app) -> list[str]:
    with app.app_context():
        return [r.kind for r in db.session.execute(db.select(AuditRecord)).scalars()]


def test_pages_need_a_signed_in_agent(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_login_then_orders_page_then_logout(client, auth, loaded_store):
    response = auth.login("agent")
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="q"' in html  # the search box comes first
    first = loaded_store.recent(limit=1).items[0]
    assert first.order_no in html
    assert auth.logout().status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_generic_and_recorded(app, client, auth):
    wrong = auth.login("agent", password="nope-nope")
    nobody = auth.login_as("ghost", "whatever1")
    for response in (wrong, nobody):
        assert response.status_code == 401
        assert "Wrong user name or password" in response.get_data(as_text=True)
    assert audit_kinds(app).count("login_failed") == 2
    assert client.get("/").status_code == 302


def test_login_form_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"name": "agent", "password": "agent-pass-1"})
    assert response.status_code in (200, 400)
    assert client.get("/").status_code == 302  # still signed out


def test_cookie_api_post_without_csrf_is_refused(client, auth):
    auth.login("agent")
    response = client.post("/logout")
    assert response.status_code == 400
    assert "csrf" in response.get_data(as_text=True).lower()
    assert client.get("/").status_code == 200  # the refused POST did not sign anyone out


def test_offsite_next_is_not_followed(client):
    from tests.conftest import PASSWORDS, csrf_from
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=https://evil.example/x", data={
        "name": "agent", "password": PASSWORDS["agent"], "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_api_without_token_is_401_json(client):
    response = client.get("/api/orders")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "authentication_required"


def test_api_with_bad_token_is_401(client):
    response = client.get("/api/orders", headers={"Authorization": "Bearer kd_not-a-token"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_token_is_stored_hashed_and_revocable(app, client, token_for, loaded_store):
    token = token_for("agent")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/orders?limit=2", headers=headers).status_code == 200
    with app.app_context():
        row = db.session.execute(db.select(ApiToken)).scalar_one()
        assert token not in (row.token_hash, row.hint) and len(row.token_hash) == 64
        assert row.last_used_at is not None
        from console.people import revoke_token
        assert revoke_token(row.id)
    assert client.get("/api/orders", headers=headers).status_code == 401


def test_unknown_order_is_404_order_not_found(client, token_for, loaded_store):
    response = client.get("/api/orders/NO-SUCH-ORDER",
                          headers={"Authorization": f"Bearer {token_for('agent')}"})
    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": "order_not_found",
                                             "message": "order 'NO-SUCH-ORDER' was not found"}}


def test_wrong_role_is_403(app, client, token_for):
    from flask import Blueprint

    from console.access import role_required

    probe = Blueprint("probe", __name__)

    @probe.get("/api/probe-admin")
    @role_required("admin")
    def admin_only():
        return {"ok": True}

    app.register_blueprint(probe)
    agent = client.get("/api/probe-admin", headers={"Authorization": f"Bearer {token_for('agent')}"})
    admin = client.get("/api/probe-admin", headers={"Authorization": f"Bearer {token_for('admin')}"})
    assert agent.status_code == 403 and agent.get_json()["error"]["code"] == "forbidden"
    assert admin.status_code == 200


def test_successful_login_is_audited(app, auth):
    auth.login("supervisor")
    assert "login" in audit_kinds(app)
