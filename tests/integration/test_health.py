"""/healthz names the part that is down and answers 503 for it."""
from __future__ import annotations

from tests.conftest import make_app


def test_healthy_console_answers_200(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["console_db"]["ok"] and body["checks"]["store"]["ok"]
    assert body["checks"]["queue"] == {"ok": True, "configured": False}


def test_store_down_is_503_naming_the_store(tmp_path):
    app = make_app(tmp_path, store_url="postgresql+psycopg://nobody@127.0.0.1:1/shop?connect_timeout=2")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["console_db"]["ok"] is True
    assert body["checks"]["store"]["ok"] is False and body["checks"]["store"]["error"]


def test_queue_down_is_503(tmp_path):
    app = make_app(tmp_path, MESSAGE_QUEUE="redis://127.0.0.1:1/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["queue"]["ok"] is False


def test_store_down_gives_a_clear_api_error_not_a_500(tmp_path):
    app = make_app(tmp_path, store_url="postgresql+psycopg://nobody@127.0.0.1:1/shop?connect_timeout=2")
    with app.app_context():
        from console.people import issue_token, save_user
        save_user("agent", "agent", "agent-pass-1")
        token = issue_token("agent")
    response = app.test_client().get("/api/orders/KD1", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "store_unavailable"
