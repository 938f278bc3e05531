"""A real Chromium signs in and sees the orders list."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORDS, make_app, sample_orders
from tests.e2e.live import serving, with_users

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(tmp_path):
    app = with_users(make_app(tmp_path))
    with app.app_context():
        from console.store import get_store
        get_store().load(sample_orders(120, seed=5))
    with serving(app) as url:
        yield url, app


def test_agent_signs_in_and_sees_latest_orders(page, live_server):
    url, app = live_server
    page.goto(url + "/")
    assert "/login" in page.url
    page.fill("input[name=name]", "agent")
    page.fill("input[name=password]", "wrong-password")
    page.click("#signin")
    assert page.locator(".flash.error").inner_text().startswith("Wrong user name")
    page.fill("input[name=name]", "agent")
    page.fill("input[name=password]", PASSWORDS["agent"])
    page.click("#signin")
    page.wait_for_selector("#orders")
    rows = page.locator("#orders tbody tr")
    assert rows.count() == 50
    with app.app_context():
        from console.store import get_store
        newest = get_store().recent(limit=1).items[0].order_no
    assert rows.first.get_attribute("data-order") == newest
    assert page.evaluate("document.activeElement.id") == "q"  # search box first, cursor in it
    page.click("a[rel=next]")
    assert "page=2" in page.url
    assert page.locator("#orders tbody tr").first.get_attribute("data-order") != newest
