"""The supervisor dashboard in Chromium against a real `kamidesk serve` with its in-process
order watcher: the live panel follows the queue over Socket.IO without a reload, the
demo's outage shows as an incident whose notice reaches a customer's chat."""
from __future__ import annotations

import pytest
import requests

from adapters.demo_data import OUTAGE_SUPPLIER, watch_scenario
from tests.chat_server import ChatClient, ChatServer, prepare_instance, wait_until
from tests.conftest import sample_orders

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def console_server(tmp_path, monkeypatch):
    monkeypatch.setenv("KAMIDESK_WATCH_IN_PROCESS", "1")
    tokens = prepare_instance(tmp_path, {"agent": "agent", "sue": "supervisor"},
                              orders=sample_orders(40, seed=3) + list(watch_scenario(seed=3)))
    server = ChatServer(tmp_path).start()
    server.tokens = tokens
    yield server
    server.stop()


def sign_in(page, url: str, name: str) -> None:
    page.goto(url + "/login?next=/supervisor")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", f"{name}-pass-1")
    page.click("#signin")
    page.wait_for_selector("#supervisor-page")


def test_live_panel_follows_the_queue_in_real_time(page, console_server):
    url = console_server.url
    sign_in(page, url, "sue")
    page.locator("#live-conn", has_text="Online").wait_for()
    page.locator("#live-waiting", has_text="0").wait_for()
    reloads = page.evaluate("performance.getEntriesByType('navigation').length")

    session = console_server.widget_session()
    customer = ChatClient(url, "/customer", session["token"]).connect()
    agent = ChatClient(url, "/agent", console_server.tokens["agent"]).connect()
    try:
        page.locator('#live-agents tr[data-agent="agent"] td', has_text="Online").wait_for()
        customer.send(session["conversation_id"], "My top-up has not arrived")
        page.locator("#live-waiting", has_text="1").wait_for()
        # the longest wait ticks in the page between events
        page.wait_for_function(  # a function, not an expression: the CSP forbids eval
            "() => document.getElementById('live-longest').textContent.match(/^[1-9]\\d*s$/)")
        agent.send(session["conversation_id"], "Looking into it now")
        page.locator("#live-waiting", has_text="0").wait_for()
        row = page.locator('#live-agents tr[data-agent="agent"]')
        wait_until(lambda: row.locator("td").nth(2).inner_text() == "1")
        assert page.evaluate("performance.getEntriesByType('navigation').length") == reloads
    finally:
        customer.disconnect()
        agent.disconnect()


def test_outage_incident_notice_reaches_the_affected_chat(page, console_server):
    url = console_server.url
    sign_in(page, url, "sue")
    card = page.locator(".sv-incident", has_text=OUTAGE_SUPPLIER)
    card.wait_for(timeout=20000)
    page.locator("#stuck-rows tr[data-order]").first.wait_for()
    # a customer of one affected order has a chat about it
    auth = {"Authorization": f"Bearer {console_server.tokens['sue']}"}
    incident = requests.get(url + "/api/incidents?state=open", headers=auth, timeout=10).json()
    detail = requests.get(f"{url}/api/incidents/{incident['incidents'][0]['id']}",
                          headers=auth, timeout=10).json()
    order_no = detail["orders"][0]["order_no"]
    opened = requests.post(f"{url}/api/orders/{order_no}/conversation", headers=auth,
                           timeout=10).json()
    card.locator("textarea").fill("Top-ups through 快鸟充值 are delayed; back by 15:00.")
    card.get_by_role("button", name="Send notice to affected chats").click()
    page.locator("#incident-flash", has_text="Notice sent to 1 chats.").wait_for()
    watcher = ChatClient(url, "/agent", console_server.tokens["sue"]).connect()
    try:
        bodies = [m["body"] for m in watcher.resume(opened["conversation"]["id"], 0)]
    finally:
        watcher.disconnect()
    assert any("back by 15:00" in body for body in bodies)
    page.locator(".sv-incident").first.get_by_role("button", name="Close incident").click()
    page.locator("#incidents", has_text="No incident").wait_for()


def test_agent_sees_stuck_orders_and_opens_the_customers_chat(page, console_server):
    url = console_server.url
    page.goto(url + "/login?next=/alerts")
    page.fill("input[name=name]", "agent")
    page.fill("input[name=password]", "agent-pass-1")
    page.click("#signin")
    row = page.locator("#stuck-rows tr[data-order]").first
    row.wait_for(timeout=20000)
    order_no = row.get_attribute("data-order")
    assert page.locator("#alerts-count").inner_text() != "0"
    assert page.locator("a.sv-export").count() == 0  # exports are for supervisors
    row.get_by_role("button", name="Chat with the customer").click()
    page.wait_for_url("**/inbox#c=*")
    page.locator("#pane-title").wait_for()
    # back on the alerts page the same order now offers its open chat
    page.goto(url + "/alerts")
    again = page.locator(f'#stuck-rows tr[data-order="{order_no}"] a.open-chat')
    again.wait_for()
    assert again.get_attribute("href").startswith("/inbox#c=")
    assert page.goto(url + "/supervisor").status == 403
