"""A customer's chat message and an order remark holding HTML and script are shown as text
in the agent's browser: nothing runs, no element is injected, the characters are all there."""
from __future__ import annotations

from dataclasses import replace

import pytest

from tests.chat_server import ChatClient, ChatServer, prepare_instance
from tests.e2e.test_chat_browser import sign_in
from tests.order_factory import make_order

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAYLOAD = ('<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2</script>'
           '<b id="injected">bold</b>"\'><svg onload="window.__xss=3">')


@pytest.fixture
def console_server(tmp_path):
    order = replace(make_order("XSS-1", status="delivered", keys=1), remark=PAYLOAD)
    prepare_instance(tmp_path, {"agent": "agent"}, orders=[order])
    server = ChatServer(tmp_path).start()
    yield server
    server.stop()


def watch_for_script(page) -> list[str]:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return dialogs


def assert_inert(page, dialogs: list[str]) -> None:
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("#injected").count() == 0
    assert page.locator("img[src=x], svg[onload]").count() == 0
    assert dialogs == []


def test_an_order_remark_with_html_is_text_on_the_order_page(page, console_server):
    dialogs = watch_for_script(page)
    sign_in(page, console_server.url)
    page.goto(console_server.url + "/orders/XSS-1")
    remark = page.locator("#remark")
    remark.wait_for()
    assert remark.inner_text() == PAYLOAD
    assert remark.locator("*").count() == 0
    page.wait_for_timeout(300)  # an onerror would have fired by now
    assert_inert(page, dialogs)


def test_a_customer_message_with_html_is_text_in_the_inbox(page, console_server):
    session = console_server.widget_session()
    customer = ChatClient(console_server.url, "/customer", session["token"]).connect()
    try:
        customer.send(session["conversation_id"], PAYLOAD)
    finally:
        customer.disconnect()
    dialogs = watch_for_script(page)
    sign_in(page, console_server.url)
    row = page.locator("#queue-list li", has_text="window.__xss=2")
    row.wait_for()
    row.locator("button").click()
    message = page.locator("#transcript .msg.theirs").first
    message.wait_for()
    assert PAYLOAD in message.inner_text()
    assert message.locator("img, script, svg, b").count() == 0
    page.wait_for_timeout(300)
    assert_inert(page, dialogs)
