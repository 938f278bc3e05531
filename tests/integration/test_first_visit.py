"""What a new user meets on a first visit: a demo desk with something on every screen,
greyed-out actions that say why, a queue row that says who wrote the preview, audit codes
in words, and an icon instead of a 404 on every page."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from console.demo import prepare_demo
from tests.conftest import PASSWORDS, csrf_from


@pytest.fixture
def desk(app, store, demo_orders):
    """The demo as ``make demo`` builds it (users, then the desk), on the test's orders."""
    store.load(demo_orders)
    with app.app_context():
        prepare_demo(store, count=0, seed=1, users=tuple(PASSWORDS.items()), progress=False)
    return app


def counts(app) -> dict[str, int]:
    from console.actions.models import Action, EditRequest
    from console.chat.models import CannedReply, Conversation, Message
    from console.extensions import db
    from console.models import AuditRecord

    with app.app_context():
        return {model.__name__: db.session.execute(db.select(db.func.count())
                                                   .select_from(model)).scalar_one()
                for model in (Action, EditRequest, CannedReply, Conversation, Message,
                              AuditRecord)}


def test_demo_fills_the_desk_screens(desk, client, auth):
    auth.login("supervisor")
    approvals = client.get("/approvals").get_data(as_text=True)
    rows = re.findall(r'<tr data-action="\d+">(.*?)</tr>', approvals, re.S)
    assert len(rows) == 1, "one large refund waits for a supervisor"
    amount = Decimal(re.search(r'<td class="num">([\d,.]+)</td>', rows[0])[1].replace(",", ""))
    assert amount > Decimal(str(desk.config["REFUND_APPROVAL_ABOVE"]))

    edits = client.get("/edit-requests?state=pending").get_data(as_text=True)
    assert len(re.findall(r'<tr data-request="\d+" data-state="pending">', edits)) == 1
    assert "<td>Recipient account: " in edits and "<td>recipient_account:" not in edits
    assert "Customer <small class=\"muted\">from the chat</small>" in edits

    inbox = client.get("/inbox").get_data(as_text=True)
    assert inbox.count("<li><code>/") >= 5, "canned replies in the inbox's side panel"
    queue = client.get("/api/chat/conversations?view=queue").get_json()
    assert queue["total"] == 1
    waiting = queue["results"][0]
    assert waiting["waiting_since"] and waiting["assignee"] is None
    assert waiting["last_preview_sender"] == "customer"
    assert waiting["order_nos"] is None or isinstance(waiting["order_nos"], list)
    detail = client.get(f"/api/chat/conversations/{waiting['id']}").get_json()
    assert len(detail["verified_orders"]) == 1, "the waiting customer's order is linked"


def test_the_seeded_rows_are_real_service_rows(desk):
    from console.actions.models import Action, EditRequest
    from console.extensions import db
    from console.models import AuditRecord
    from console.store import get_store

    with desk.app_context():
        refund = db.session.execute(db.select(Action)).scalar_one()
        assert (refund.kind, refund.state, refund.requester_name) == \
            ("refund", "pending_approval", "agent")
        edit = db.session.execute(db.select(EditRequest)).scalar_one()
        assert edit.state == "pending" and edit.via == "customer" and edit.conversation_id
        order = get_store().get(edit.order_no)
        assert edit.changes["recipient_account"] != order.recipient_account
        kinds = set(db.session.execute(db.select(AuditRecord.kind)).scalars())
        assert {"refund_requested", "edit_requested"} <= kinds


def test_running_the_demo_again_makes_nothing_twice(desk, store):
    before = counts(desk)
    assert before["Action"] == 1 and before["EditRequest"] == 1 and before["Conversation"] == 1
    assert before["CannedReply"] >= 5 and before["Message"] == 1
    with desk.app_context():
        prepare_demo(store, count=0, seed=1, users=tuple(PASSWORDS.items()), progress=False)
    assert counts(desk) == before


def test_a_supervisor_can_approve_the_seeded_refund(desk, client, auth):
    """The pending refund is a real request: another supervisor decides it, and it refunds."""
    from console.actions.models import Action
    from console.extensions import db

    with desk.app_context():
        action = db.session.execute(db.select(Action)).scalar_one()
        action_id, order_no = action.id, action.order_no
    auth.login("supervisor")
    token = csrf_from(client.get("/approvals").get_data(as_text=True))
    answer = client.post(f"/api/actions/{action_id}/approve", json={},
                         headers={"X-CSRFToken": token, "Idempotency-Key": "approve-demo"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["action"]["state"] == "done"
    assert answer.get_json()["order"]["status"] == "refunded"
    assert answer.get_json()["order"]["order_no"] == order_no


# --- greyed-out actions say why -------------------------------------------------------------

def delivered_key_order(orders):
    return next(o for o in orders if o.status == "completed" and o.card_keys)


def test_greyed_out_actions_carry_their_reason(app, client, auth, loaded_store, demo_orders):
    order = delivered_key_order(demo_orders)
    auth.login("agent")
    html = client.get(f"/orders/{order.order_no}").get_data(as_text=True)
    for kind in ("edit", "cancel"):
        button = re.search(rf'<button type="button" class="ap-open" data-kind="{kind}"[^>]*>',
                           html)[0]
        assert " disabled" in button
        title = re.search(r'title="([^"]+)"', button)[1]
        assert "already delivered" in title and order.order_no in title
        assert f'aria-describedby="why-{kind}"' in button
        visible = re.search(rf'<li id="why-{kind}" data-kind="{kind}">(.*?)</li>', html, re.S)[1]
        assert "unavailable" in visible and title in visible.replace("&#39;", "'")
    refund = re.search(r'<button type="button" class="ap-open" data-kind="refund"[^>]*>', html)[0]
    assert " disabled" not in refund and 'id="why-refund"' not in html


def test_greyed_out_reasons_in_chinese_name_the_status_in_chinese(app, client, auth,
                                                                   loaded_store, demo_orders):
    order = next(o for o in demo_orders if o.status == "refunded")
    auth.login("agent")
    token = csrf_from(client.get("/").get_data(as_text=True))
    client.post("/language/zh_CN", data={"csrf_token": token, "next": "/"})
    html = client.get(f"/orders/{order.order_no}").get_data(as_text=True)
    why = dict(re.findall(r'<li id="why-(\w+)" data-kind="\w+">(.*?)</li>', html, re.S))
    assert {"edit", "refund", "cancel"} <= set(why)
    assert "已退款" in why["cancel"] and "refunded" not in why["cancel"]
    assert "无法取消" in why["cancel"]


# --- inbox row, audit words, favicon ------------------------------------------------------

def test_queue_row_says_who_wrote_the_preview(app, client, auth):
    from console.chat import service as chat
    from console.chat.service import AgentRef
    from console.extensions import db
    from console.people import find_user

    with app.app_context():
        conversation = chat.start_conversation(db.session, None, "en")
        chat.post_message(db.session, conversation.id, sender_kind="customer", body="where is it?")
        agent = AgentRef.of(find_user("agent"))
        chat.take(db.session, conversation.id, agent)
        conversation_id = conversation.id
    auth.login("agent")
    row = client.get("/api/chat/conversations?view=open").get_json()["results"][0]
    assert row["assignee"]["name"] == "agent" and row["last_preview_sender"] == "customer"
    with app.app_context():
        chat.post_message(db.session, conversation_id, sender_kind="agent", body="on its way",
                          agent=agent)
        chat.post_message(db.session, conversation_id, sender_kind="note", body="internal",
                          agent=agent)
    row = client.get("/api/chat/conversations?view=open").get_json()["results"][0]
    assert (row["last_preview"], row["last_preview_sender"]) == ("on its way", "agent")


def test_audit_page_shows_words_not_codes(app, client, auth, token_for):
    token_for("agent")
    auth.login("supervisor")
    html = client.get("/audit").get_data(as_text=True)
    cells = dict(re.findall(r'<td title="([a-z_]+)">([^<]+)</td>', html))
    assert cells["token_created"] == "API token created"
    assert cells["user_created"] == "User created"
    assert cells["login"] == "Signed in"
    assert '<option value="">Any action</option>' in html
    assert '<option value="token_created" >API token created</option>' in html
    assert "<b>token ends</b>" in html


def test_every_page_has_an_icon(client, auth):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.get_data(as_text=True).startswith("<svg")
    for page in (client.get("/login"), client.get("/chat")):
        assert '<link rel="icon" href="/static/favicon.svg"' in page.get_data(as_text=True)
    assert client.get("/static/favicon.svg").status_code == 200


def test_payment_channel_reads_as_a_name(app, client, auth, loaded_store, demo_orders):
    order = next(o for o in demo_orders if o.payment and o.payment.channel == "wechat")
    auth.login("agent")
    html = client.get(f"/orders/{order.order_no}").get_data(as_text=True)
    assert '<dd data-channel="wechat">WeChat Pay</dd>' in html
    token = csrf_from(html)
    client.post("/language/zh_CN", data={"csrf_token": token, "next": "/"})
    html = client.get(f"/orders/{order.order_no}").get_data(as_text=True)
    assert '<dd data-channel="wechat">微信支付</dd>' in html
