"""A real Chromium at the two common desktop sizes: the order page's tables fit their cards
(no header cut off, no date or status wrapped onto more lines), in English and Chinese, and
greyed-out actions show why they are unavailable."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORDS, make_app, sample_orders
from tests.e2e.live import serving, with_users
from tests.e2e.test_order_detail_browser import ORDER_NO, story_order

pytestmark = pytest.mark.browser

SIZES = ((1366, 768), (1920, 1080))

# For every table on the page: does it stay inside its card, is any header cell clipped,
# and over how many lines does each cell's text run (counted from its line boxes)?
MEASURE = """
() => [...document.querySelectorAll('.order-detail .card table')].map((table) => {
  const card = table.closest('.card');
  const box = card.getBoundingClientRect();
  const style = getComputedStyle(card);
  const inner = box.right - parseFloat(style.paddingRight) - parseFloat(style.borderRightWidth);
  const lines = (cell) => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    // A box starting below the bottom of the line so far starts a new line; boxes that
    // overlap vertically (text beside a button) are the same line.
    const boxes = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0)
      .sort((a, b) => a.top - b.top);
    let count = 0, bottom = -Infinity;
    for (const r of boxes) {
      if (r.top >= bottom - 1) { count += 1; bottom = r.bottom; } else { bottom = Math.max(bottom, r.bottom); }
    }
    return count;
  };
  const fit = table.parentElement;
  return {
    id: table.id,
    overflowRight: Math.round(table.getBoundingClientRect().right - inner),
    scrolls: fit.scrollWidth > fit.clientWidth + 1,
    headers: [...table.querySelectorAll('th')].map((th) => ({
      text: th.textContent.trim(), clipped: th.scrollWidth > th.clientWidth + 1,
      lines: lines(th), right: Math.round(th.getBoundingClientRect().right - inner)})),
    cells: [...table.querySelectorAll('tbody td')].map((td, i) => ({
      column: td.cellIndex, text: td.textContent.trim(), lines: lines(td)})),
  };
})
"""


def busiest_key_order():
    """The generated order with the most (and longest) card keys: the widest real table."""
    orders = [o for o in sample_orders(600, seed=11) if o.card_keys]
    return max(orders, key=lambda o: (len(o.card_keys),
                                      max(len(k.serial) + len(k.secret) for k in o.card_keys)))


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    app = with_users(make_app(tmp_path_factory.mktemp("tables")))
    wide = busiest_key_order()
    with app.app_context():
        from console.store import get_store
        get_store().load([story_order(), wide])
    with serving(app) as url:
        yield url, wide.order_no


def open_order(browser, url: str, order_no: str, size: tuple[int, int], locale: str):
    context = browser.new_context(locale=locale, viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.goto(f"{url}/orders/{order_no}")
    page.fill("input[name=name]", "agent")
    page.fill("input[name=password]", PASSWORDS["agent"])
    page.click("#signin")
    page.wait_for_selector("#order-detail")
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => true)")  # measure with the final fonts
    return context, page


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_order_tables_fit_their_cards(browser, live_server, size, locale):
    url, wide_order = live_server
    for order_no in (ORDER_NO, wide_order):
        context, page = open_order(browser, url, order_no, size, locale)
        try:
            tables = page.evaluate(MEASURE)
            assert any(t["id"] == "card-keys" for t in tables), "the delivery log is a table"
            for table in tables:
                where = f"{order_no} {table['id']} at {size} {locale}"
                assert table["overflowRight"] <= 0, f"{where}: sticks out of its card"
                assert not table["scrolls"], f"{where}: needs scrolling inside its card"
                for th in table["headers"]:
                    assert not th["clipped"] and th["right"] <= 0, f"{where}: header {th} cut"
                    assert th["lines"] <= 1, f"{where}: header {th['text']!r} wraps"
                for td in table["cells"]:
                    assert td["lines"] <= 1, f"{where}: cell {td['text']!r} wraps"
            dates = [td for t in tables if t["id"] == "card-keys" for td in t["cells"]
                     if td["column"] == 4]
            assert dates and all(len(td["text"]) == 19 for td in dates), dates
        finally:
            context.close()


def test_greyed_out_actions_show_why(browser, live_server):
    url, _ = live_server
    context, page = open_order(browser, url, ORDER_NO, SIZES[0], "en-US")
    try:
        for kind in ("edit", "cancel"):
            button = page.locator(f'#actions-panel button.ap-open[data-kind="{kind}"]')
            assert button.is_disabled()
            reason = button.get_attribute("title")
            assert reason and "already delivered" in reason
            why = page.locator(f"#why-{kind}")
            assert why.is_visible() and reason in why.inner_text()
    finally:
        context.close()
