"""A shop API that goes down shows agents a banner; chat keeps working; the banner leaves
when the shop answers again.  The console runs with ``STORE=http`` against the reference
shop API on loopback."""
from __future__ import annotations

import pytest

from adapters import build_order_store
from tests.conftest import AuthActions, make_app
from tests.order_factory import load, make_order
from tests.shop_api.server import TOKEN, running_shop_api

BANNER = 'id="store-banner"'


@pytest.fixture
def shop(tmp_path):
    backing = build_order_store("sql", f"sqlite:///{tmp_path / 'shop.db'}")
    load(backing, make_order("B-1", status="delivered", keys=1))
    with running_shop_api(backing) as (api, url):
        api.url = url
        yield api
    backing.close()


@pytest.fixture
def agent(tmp_path, shop):
    app = make_app(tmp_path, STORE="http", STORE_URL=shop.url, STORE_TOKEN=TOKEN)
    with app.app_context():
        from console.people import save_user
        save_user("agent", "agent", "agent-pass-1")
    client = app.test_client()
    AuthActions(client).login()
    yield client
    from console.store import get_store
    with app.app_context():
        get_store().close()


def test_an_outage_shows_a_banner_and_chat_keeps_working(shop, agent):
    assert agent.get("/api/orders/B-1").status_code == 200
    assert BANNER not in agent.get("/?q=B-1").get_data(as_text=True)
    shop.mode = "failing"
    page = agent.get("/?q=B-1")
    assert page.status_code == 503
    assert BANNER in page.get_data(as_text=True)
    answer = agent.get("/api/orders/B-1")
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "store_unavailable"
    inbox = agent.get("/inbox")
    assert inbox.status_code == 200 and BANNER in inbox.get_data(as_text=True)
    assert agent.get("/api/chat/conversations").status_code == 200
    shop.mode = "ok"
    back = agent.get("/?q=B-1")
    assert back.status_code == 200
    assert "B-1" in back.get_data(as_text=True)
    assert BANNER not in agent.get("/inbox").get_data(as_text=True)


def test_healthz_names_the_store_while_the_shop_is_down(shop, agent):
    shop.mode = "failing"
    health = agent.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["checks"]["store"]["ok"] is False
    assert health.get_json()["checks"]["console_db"]["ok"] is True
