"""A real Chromium on the search screen: type, see results, move with the keys, open, undo a chip."""
from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORDS, make_app, sample_orders
from tests.e2e.live import serving, with_users

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(tmp_path):
    app = with_users(make_app(tmp_path))
    orders = sample_orders(200, seed=9)
    with app.app_context():
        from console.store import get_store
        get_store().load(orders)
    with serving(app) as url:
        yield url, orders


def sign_in(page, url: str) -> None:
    page.goto(url + "/")
    page.fill("input[name=name]", "agent")
    page.fill("input[name=password]", PASSWORDS["agent"])
    page.click("#signin")
    page.wait_for_selector("#orders tbody tr")


def row_numbers(page) -> list[str]:
    return page.eval_on_selector_all("#orders tbody tr", "rows => rows.map(r => r.dataset.order)")


def test_type_see_results_move_with_arrows_and_open_with_enter(page, live_server):
    url, orders = live_server
    sign_in(page, url)
    assert page.evaluate("document.activeElement.id") == "q"
    latest = row_numbers(page)
    target = orders[40]
    page.keyboard.type(target.order_no[-10:])
    page.wait_for_function(
        "no => { const r = document.querySelectorAll('#orders tbody tr');"
        " return r.length === 1 && r[0].dataset.order === no; }", arg=target.order_no)
    assert "q=" in page.url  # the address follows the box, so a reload shows the same
    page.fill("#q", "")
    page.wait_for_function(  # an emptied box shows the latest orders again
        "first => document.querySelector('#orders tbody tr').dataset.order === first",
        arg=latest[0])
    page.keyboard.type("话费")
    page.wait_for_selector("#chips .chip-category")
    page.wait_for_function("() => document.querySelectorAll('#orders tbody tr').length >= 3")
    found = row_numbers(page)
    assert found != latest[:len(found)]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert page.locator("#orders tbody tr.selected").get_attribute("data-order") == found[1]
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/orders/{found[1]}$"))


def test_removing_a_chip_takes_its_words_out_and_searches_again(page, live_server):
    url, orders = live_server
    sign_in(page, url)
    target = next(o for o in orders if o.buyer.phone)
    tail = target.buyer.phone[-4:]
    page.keyboard.type(f"尾号{tail} 话费")
    page.wait_for_selector("#chips .chip-phone_tail")
    page.wait_for_function("() => !document.querySelector('#orders').hasAttribute('aria-busy')")
    assert page.locator("#chips .chip").count() == 2
    page.click("#chips .chip-phone_tail .chip-remove")
    page.wait_for_function("() => !document.querySelector('#chips .chip-phone_tail')")
    assert page.input_value("#q") == "话费"
    page.wait_for_function("() => document.querySelectorAll('#chips .chip').length === 1")
    assert page.evaluate("document.activeElement.id") == "q"


def test_filters_apply_at_once_and_show_as_chips(page, live_server):
    url, orders = live_server
    sign_in(page, url)
    page.select_option("#f-status", "refunded")
    page.wait_for_selector("#chips .chip-status")
    statuses = page.eval_on_selector_all("#orders tbody .status",
                                          "s => s.map(x => x.className + '|' + x.textContent)")
    assert statuses and set(statuses) == {"status s-refunded|Refunded"}  # the label, not the code
    assert "status=refunded" in page.get_attribute("#export-csv", "href")
    page.click("#chips .chip-status .chip-remove")
    page.wait_for_function("() => !document.querySelector('#chips .chip-status')")
    assert page.input_value("#f-status") == ""
