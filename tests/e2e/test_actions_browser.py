"""A real Chromium resolves tickets from the order page's actions panel."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import PASSWORDS, make_app
from tests.e2e.live import serving, with_users
from tests.order_factory import KEY_CARD, load, make_order, stock

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(tmp_path):
    app = with_users(make_app(tmp_path, REFUND_APPROVAL_ABOVE=Decimal("50.00")))
    with app.app_context():
        from console.store import get_store
        store = get_store()
        load(store, make_order("B-PAID", status="paid", recipient="wrong-qq-1"),
             make_order("B-DEAD", status="delivered", keys=1))
        shelf = stock(store, KEY_CARD, 1)
    with serving(app) as url:
        yield url, store, shelf


def sign_in(page, url: str, name: str = "agent") -> None:
    page.goto(url + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    with page.expect_navigation():
        page.click("#signin")
    assert "/login" not in page.url


def test_edit_request_then_approve_applies_it(page, live_server):
    url, store, _ = live_server
    sign_in(page, url)
    page.goto(url + "/orders/B-PAID")
    page.click("#actions-panel button[data-kind=edit]")
    dialog = page.locator("#action-dialog")
    assert dialog.is_visible()
    assert "B-PAID" in page.inner_text("#ad-summary")
    page.fill("#action-form input[name=recipient_account]", "right-qq-2")
    page.fill("#ad-reason", "customer typed the wrong QQ number")
    with page.expect_navigation():
        page.click("#ad-confirm")
    pending = page.locator("#ap-edit-requests li")
    assert pending.count() == 1
    assert "Recipient account: right-qq-2" in pending.inner_text()
    assert "Edit request recorded" in page.inner_text("#ap-flash")

    pending.locator("button[data-kind=approve-edit]").click()
    assert "right-qq-2" in page.inner_text("#ad-summary")
    with page.expect_navigation():
        page.click("#ad-confirm")
    assert "applied" in page.inner_text("#ap-flash")
    assert page.locator("#ap-edit-requests").count() == 0
    assert store.get("B-PAID").recipient_account == "right-qq-2"
    assert "edit_applied" in [e.kind for e in store.get("B-PAID").events]


def test_reissue_shows_the_new_key_once(page, live_server):
    url, store, shelf = live_server
    sign_in(page, url)
    page.goto(url + "/orders/B-DEAD")
    page.click("#actions-panel button[data-kind=reissue]")
    assert "B-DEAD" in page.inner_text("#ad-summary")
    page.fill("#ad-reason", "key reported dead")
    page.click("#ad-confirm")
    page.wait_for_selector(".ad-new-key")
    assert page.inner_text(".ad-new-key").split() == [shelf[0], shelf[0] + "-SECRET"]
    assert page.locator("#ad-confirm").is_hidden()
    with page.expect_navigation():
        page.click("#ad-close")
    assert "shown once" in page.inner_text("#ap-flash")
    assert shelf[0] + "-SECRET" not in page.content()  # masked on the page from now on
    keys = {k.serial: k.status for k in store.get("B-DEAD").card_keys}
    assert keys == {"B-DEAD-S0": "voided", shelf[0]: "delivered"}


def test_a_double_clicked_partial_refund_goes_out_once(page, live_server):
    url, store, _ = live_server
    sign_in(page, url)
    page.goto(url + "/orders/B-DEAD")
    page.click("#actions-panel button[data-kind=refund]")
    page.check("#action-form input[name=scope][value=partial]")
    page.fill("#ad-amount", "10.00")
    page.fill("#ad-reason", "compensation for the wait")
    summary = page.inner_text("#ad-summary")
    assert "10.00" in summary and "B-DEAD" in summary
    assert "10.00" in page.inner_text("#ad-confirm")
    with page.expect_navigation():
        page.dblclick("#ad-confirm")
    assert store.get("B-DEAD").refunded_amount == Decimal("10.00")
    assert [e.kind for e in store.get("B-DEAD").events].count("partially_refunded") == 1
    assert "Refunded 10.00" in page.inner_text("#ap-flash")


def test_a_large_refund_waits_for_another_supervisor(page, live_server):
    url, store, _ = live_server
    sign_in(page, url, "agent")
    page.goto(url + "/orders/B-DEAD")
    page.click("#actions-panel button[data-kind=refund]")
    page.fill("#ad-reason", "never worked")
    with page.expect_navigation():
        page.click("#ad-confirm")
    assert "waits for a supervisor" in page.inner_text("#ap-flash")
    assert page.locator("#ap-pending li").count() == 1
    assert store.get("B-DEAD").refunded_amount == Decimal("0.00")

    page.context.clear_cookies()
    sign_in(page, url, "supervisor")
    page.goto(url + "/approvals")
    row = page.locator("#approvals tbody tr")
    assert row.count() == 1 and "B-DEAD" in row.inner_text()
    row.locator("button[data-kind=approve-action]").click()
    summary = page.inner_text("#ad-summary")
    assert "98.50" in summary and "B-DEAD" in summary and "agent" in summary
    with page.expect_navigation():
        page.click("#ad-confirm")
    assert page.locator("#approvals tbody tr").count() == 0
    assert "Refunded 98.50" in page.inner_text("#ap-flash")
    assert store.get("B-DEAD").status == "refunded"
