"""The real widget on a shop's page and the real inbox, in Chromium, against a real server."""
from __future__ import annotations

import http.server
import threading

import pytest
import requests

from tests.chat_server import ChatServer, prepare_instance, wait_until
from tests.conftest import sample_orders

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOP_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>Game cards</h1>
<script src="{console}/static/widget.js" data-label="Chat with us" async></script>
</body></html>"""


@pytest.fixture
def shop_site():
    """The shop's own site on another origin; its page (with the one-line widget tag) is
    filled in once the console's address is known."""
    content: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(content["page"])

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_port}", content
    server.shutdown()


@pytest.fixture
def console_server(tmp_path, shop_site, monkeypatch):
    prepare_instance(tmp_path, {"agent": "agent", "sue": "supervisor"},
                     orders=sample_orders(40, seed=3))
    # the shop's origin may frame the widget (frame-ancestors); any other may not
    monkeypatch.setenv("KAMIDESK_WIDGET_ORIGINS", shop_site[0])
    server = ChatServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def shop(console_server, shop_site):
    origin, content = shop_site
    content["page"] = SHOP_PAGE.format(console=console_server.url).encode()
    return origin + "/"


def sign_in(page, url: str, name: str = "agent") -> None:
    page.goto(url + "/login?next=/inbox")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", f"{name}-pass-1")
    page.click("#signin")
    page.wait_for_selector("#inbox")


def test_customer_and_agent_talk_through_widget_and_inbox(browser, page, console_server, shop):
    page.goto(shop)
    page.get_by_role("button", name="Chat with us").click()
    chat = page.frame_locator("iframe")
    chat.locator("#conn.online").wait_for()
    chat.locator("#body").fill("My card key never arrived")
    chat.locator("#body").press("Enter")
    chat.locator(".msg.mine:not(.pending)", has_text="My card key never arrived").wait_for()

    agent_context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    try:
        inbox = agent_context.new_page()
        sign_in(inbox, console_server.url)
        row = inbox.locator("#queue-list li", has_text="My card key never arrived")
        row.wait_for()
        row.locator("button").click()
        inbox.locator("#transcript .msg.theirs", has_text="My card key never arrived").wait_for()
        inbox.fill("#reply", "Sorry about that, checking now.")
        inbox.press("#reply", "Enter")
        inbox.locator("#transcript .msg.mine:not(.pending)",
                      has_text="Sorry about that").wait_for()

        chat.locator(".msg.theirs", has_text="Sorry about that, checking now.").wait_for()
        chat.locator("#agent-name", has_text="agent").wait_for()

        # a note never reaches the customer
        inbox.check("#note")
        inbox.fill("#reply", "internal: check supplier")
        inbox.press("#reply", "Enter")
        inbox.locator("#transcript .msg.note:not(.pending)", has_text="internal").wait_for()

        # the customer writes while the console is down; the widget keeps it and sends it later
        console_server.kill()
        chat.locator("#conn.offline").wait_for()
        chat.locator("#body").fill("Are you still there?")
        chat.locator("#body").press("Enter")
        chat.locator(".msg.pending", has_text="Are you still there?").wait_for()
        console_server.start()
        chat.locator(".msg.mine:not(.pending)", has_text="Are you still there?").wait_for(
            timeout=30000)
        inbox.locator("#transcript .msg.theirs", has_text="Are you still there?").wait_for(
            timeout=30000)
        assert chat.locator(".msg", has_text="internal: check supplier").count() == 0
        assert chat.locator(".msg.mine", has_text="Are you still there?").count() == 1
        assert inbox.locator("#transcript .msg", has_text="Are you still there?").count() == 1
    finally:
        agent_context.close()


def test_customer_verifies_an_order_and_sees_it_in_plain_words(page, console_server):
    order = next(o for o in sample_orders(40, seed=3) if o.buyer.phone)
    page.goto(console_server.url + "/chat")
    page.locator("#conn.online").wait_for()
    page.click("#orders-box summary")
    page.fill("#v-order", order.order_no)
    page.fill("#v-proof", "0000" if not order.buyer.phone.endswith("0000") else "1111")
    page.click("#v-submit")
    page.locator("#v-error").filter(has_text="do not match").wait_for()
    page.fill("#v-proof", order.buyer.phone[-4:])
    page.click("#v-submit")
    card = page.locator(f'.order-card[data-order="{order.order_no}"]')
    card.wait_for()
    assert card.locator(".explain").inner_text().strip()
    assert card.locator(".steps li").count() >= 1
    page.locator(".msg.system", has_text=f"Order {order.order_no} verified").wait_for()
    wait_until(lambda: page.evaluate("window.kamideskChat.lastSeq()") >= 1, message="seq")


def test_supervisor_adds_a_canned_reply_and_expands_it_by_shortcut(page, console_server):
    order = next(o for o in sample_orders(40, seed=3) if o.buyer.phone)
    session = console_server.widget_session()
    verified = requests.post(console_server.url + "/api/widget/verify-order", timeout=10,
                             headers={"Authorization": f"Bearer {session['token']}"},
                             json={"order_no": order.order_no,
                                   "phone_tail": order.buyer.phone[-4:]})
    assert verified.status_code == 200
    requests.post(console_server.url + f"/api/widget/orders/{order.order_no}/after-sales",
                  headers={"Authorization": f"Bearer {session['token']}"}, json={},
                  timeout=10).raise_for_status()

    sign_in(page, console_server.url, "sue")
    page.click("#canned-new summary")
    page.fill("#canned-form input[name=shortcut]", "status")
    page.fill("#canned-form textarea[name=body]", "Order {order_no}: {status_explanation}")
    page.click("#canned-form button")
    page.locator(".canned-list code", has_text="/status").wait_for()

    page.locator("#queue-list li", has_text=order.order_no).locator("button").click()
    page.locator("#transcript .msg.theirs").first.wait_for()
    page.fill("#reply", "/sta")
    page.locator("#suggest li", has_text="/status").wait_for()
    page.press("#reply", "Tab")
    wait_until(lambda: page.input_value("#reply").startswith(f"Order {order.order_no}: "),
               message="the expanded canned reply")
    assert "{status_explanation}" not in page.input_value("#reply")
