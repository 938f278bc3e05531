"""The widget's HTTP API and the inbox's JSON API on the real app (SQLite, real store)."""
from __future__ import annotations

import io
import time

import pytest

from console.chat.identity import sign_identity
from tests.conftest import csrf_from

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def signed(user_id="u-1", email="buyer@example.com", phone="13812345678", ts=None,
           secret="widget-secret"):
    ts = int(time.time()) if ts is None else ts
    return {"user_id": user_id, "email": email, "phone": phone, "ts": ts,
            "signature": sign_identity(secret, user_id, email, phone, ts)}


def widget(client, identity=None) -> tuple[dict, dict]:
    answer = client.post("/api/widget/sessions", json=identity or {})
    assert answer.status_code in (200, 201), answer.json
    return answer.json, {"Authorization": f"Bearer {answer.json['token']}"}


@pytest.fixture
def phone_order(loaded_store, demo_orders):
    return next(o for o in demo_orders if o.buyer.phone and o.search_password)


def post_json(client, url, data=None):
    """A cookie-authenticated API call with the page's CSRF token, like the inbox makes."""
    token = csrf_from(client.get("/inbox").get_data(as_text=True))
    return client.post(url, json=data or {}, headers={"X-CSRFToken": token})


# --- sessions and signed identities ------------------------------------------------------

def test_anonymous_session_then_the_same_token_continues_it(client):
    first, headers = widget(client)
    assert first["identity_verified"] is False and first["token"]
    again = client.post("/api/widget/sessions", json={}, headers=headers)
    assert again.status_code == 200 and again.json["conversation_id"] == first["conversation_id"]
    assert client.get("/api/widget/conversation", headers=headers).status_code == 200
    token = first["token"]
    at = len(token) - 10  # inside the signature, where every character carries whole bits
    forged = {"Authorization": "Bearer " + token[:at] + ("A" if token[at] != "A" else "B")
              + token[at + 1:]}
    assert client.get("/api/widget/conversation", headers=forged).status_code == 401


def test_signed_identity_is_verified_and_keeps_its_conversation(client):
    first, _ = widget(client, signed())
    assert first["identity_verified"] is True
    second, _ = widget(client, signed())
    assert second["conversation_id"] == first["conversation_id"]
    other, _ = widget(client, signed(user_id="u-2", email="other@example.com", phone="139"))
    assert other["conversation_id"] != first["conversation_id"]


@pytest.mark.parametrize("tamper, code", [
    (lambda d: d.update(email="attacker@example.com"), "invalid_signature"),
    (lambda d: d.update(signature="0" * 64), "invalid_signature"),
    (lambda d: d.update(ts=d["ts"] + 1), "invalid_signature"),
    (lambda d: d.pop("signature"), "invalid_signature"),
])
def test_a_bad_signature_is_refused(client, tamper, code):
    identity = signed()
    tamper(identity)
    answer = client.post("/api/widget/sessions", json=identity)
    assert answer.status_code == 401 and answer.json["error"]["code"] == code


def test_a_stale_or_future_signature_is_refused(client):
    for ts in (int(time.time()) - 3600, int(time.time()) + 3600):
        answer = client.post("/api/widget/sessions", json=signed(ts=ts))
        assert answer.status_code == 401
        assert answer.json["error"]["code"] == "stale_signature"


def test_a_signature_with_another_secret_is_refused(client):
    answer = client.post("/api/widget/sessions", json=signed(secret="not-the-shop"))
    assert answer.status_code == 401 and answer.json["error"]["code"] == "invalid_signature"


# --- verifying orders --------------------------------------------------------------------

def test_verify_order_by_phone_tail_shows_plain_words_and_timeline(client, phone_order):
    _, headers = widget(client)
    answer = client.post("/api/widget/verify-order", headers=headers, json={
        "order_no": phone_order.order_no, "phone_tail": phone_order.buyer.phone[-4:]})
    assert answer.status_code == 200, answer.json
    order = answer.json["order"]
    assert order["order_no"] == phone_order.order_no
    assert order["explanation"]["text"] and order["status_label"]
    assert order["timeline"] and all("label" in s and "state" in s for s in order["timeline"])
    assert "buyer_ip" not in order and "supplier" not in order
    state = client.get("/api/widget/conversation", headers=headers).json
    assert state["orders"] == [phone_order.order_no]
    assert client.get(f"/api/widget/orders/{phone_order.order_no}",
                      headers=headers).status_code == 200


def test_verify_order_by_search_password(client, phone_order):
    _, headers = widget(client)
    answer = client.post("/api/widget/verify-order", headers=headers, json={
        "order_no": phone_order.order_no, "search_password": phone_order.search_password})
    assert answer.status_code == 200


def test_wrong_answers_and_unknown_orders_look_the_same(client, phone_order):
    _, headers = widget(client)
    wrong_tail = str((int(phone_order.buyer.phone[-4:]) + 1) % 10000).zfill(4)
    wrong = client.post("/api/widget/verify-order", headers=headers, json={
        "order_no": phone_order.order_no, "phone_tail": wrong_tail})
    unknown = client.post("/api/widget/verify-order", headers=headers, json={
        "order_no": "NO-SUCH-ORDER", "phone_tail": "1234"})
    short = client.post("/api/widget/verify-order", headers=headers, json={
        "order_no": phone_order.order_no, "phone_tail": phone_order.buyer.phone[-2:]})
    for answer in (wrong, unknown, short):
        assert answer.status_code == 403
        assert answer.json["error"] == wrong.json["error"]
    assert client.get(f"/api/widget/orders/{phone_order.order_no}",
                      headers=headers).status_code == 403
    assert client.post("/api/widget/verify-order", json={
        "order_no": phone_order.order_no, "phone_tail": "1234"}).status_code == 401


def test_guessing_is_locked_out(client, phone_order):
    _, headers = widget(client)
    for _ in range(10):
        client.post("/api/widget/verify-order", headers=headers,
                    json={"order_no": phone_order.order_no, "phone_tail": "0000"})
    right = client.post("/api/widget/verify-order", headers=headers, json={
        "order_no": phone_order.order_no, "phone_tail": phone_order.buyer.phone[-4:]})
    assert right.status_code == 429 and right.json["error"]["code"] == "too_many_attempts"


def test_after_sales_opens_the_conversation_with_the_order_attached(client, auth, phone_order):
    _, headers = widget(client)
    refused = client.post(f"/api/widget/orders/{phone_order.order_no}/after-sales",
                          headers=headers, json={})
    assert refused.status_code == 403
    client.post("/api/widget/verify-order", headers=headers, json={
        "order_no": phone_order.order_no, "phone_tail": phone_order.buyer.phone[-4:]})
    answer = client.post(f"/api/widget/orders/{phone_order.order_no}/after-sales",
                         headers=headers, json={"body": "The key does not work"})
    assert answer.status_code == 200
    assert answer.json["conversation"]["attached_order_no"] == phone_order.order_no

    auth.login("agent")
    queue = client.get("/api/chat/conversations?view=queue").json["results"]
    row = next(c for c in queue if c["attached_order_no"] == phone_order.order_no)
    assert row["last_preview"] == "The key does not work" and row["wait_seconds"] is not None
    detail = client.get(f"/api/chat/conversations/{row['id']}").json
    assert [o["order_no"] for o in detail["verified_orders"]] == [phone_order.order_no]
    assert all(o["order_no"] != phone_order.order_no for o in detail["likely_orders"])


# --- screenshots --------------------------------------------------------------------------

def upload(client, headers, data: bytes, name="shot.png"):
    return client.post("/api/widget/uploads", headers=headers,
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_screenshots_are_checked_by_content_and_served_only_to_their_chat(client, auth):
    _, headers = widget(client)
    _, stranger = widget(client)
    answer = upload(client, headers, PNG)
    assert answer.status_code == 201, answer.json
    attachment = answer.json["attachment"]
    assert attachment["content_type"] == "image/png"

    mine = client.get(attachment["url"], headers=headers)
    assert mine.status_code == 200 and mine.data == PNG
    assert mine.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(attachment["url"], headers=stranger).status_code == 404
    assert client.get(attachment["url"]).status_code == 404
    auth.login("agent")
    assert client.get(attachment["url"]).status_code == 200


def test_uploads_refuse_other_types_and_big_files(client):
    _, headers = widget(client)
    html = upload(client, headers, b"<html><script>alert(1)</script></html>", "shot.png")
    assert html.status_code == 415 and html.json["error"]["code"] == "unsupported_file"
    svg = upload(client, headers, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "a.svg")
    assert svg.status_code == 415
    big = upload(client, headers, PNG + b"\x00" * (5 * 1024 * 1024))
    assert big.status_code == 413 and big.json["error"]["code"] == "file_too_large"
    assert upload(client, {}, PNG).status_code == 401


# --- the inbox API ---------------------------------------------------------------------------

def test_queue_is_unassigned_first_then_oldest_waiting_first(app, client, auth):
    from console.extensions import socketio
    conversations = []
    for text in ("first", "second", "third"):
        session, _ = widget(client)
        customer = socketio.test_client(app, namespace="/customer",
                                        auth={"token": session["token"]})
        ack = customer.emit("message", {"conversation_id": session["conversation_id"],
                                        "client_id": text, "body": text},
                            namespace="/customer", callback=True)
        assert ack["seq"] == 1
        conversations.append(session["conversation_id"])
        customer.disconnect(namespace="/customer")
    auth.login("agent")
    assert post_json(client, f"/api/chat/conversations/{conversations[0]}/take").status_code == 200
    order = [c["id"] for c in client.get("/api/chat/conversations").json["results"]]
    assert order == [conversations[1], conversations[2], conversations[0]]
    assert [c["id"] for c in client.get("/api/chat/conversations?view=mine").json["results"]] \
        == [conversations[0]]
    resolved = post_json(client, f"/api/chat/conversations/{conversations[0]}/resolve")
    assert resolved.json["conversation"]["status"] == "resolved"
    assert [c["id"] for c in
            client.get("/api/chat/conversations?view=resolved").json["results"]] == \
        [conversations[0]]
    reopened = post_json(client, f"/api/chat/conversations/{conversations[0]}/reopen")
    assert reopened.json["conversation"]["status"] == "assigned"


def test_after_sales_button_opens_or_creates_the_orders_conversation(client, auth, phone_order):
    auth.login("agent")
    url = f"/api/orders/{phone_order.order_no}/conversation"
    created = post_json(client, url)
    assert created.status_code == 201 and created.json["created"] is True
    conversation = created.json["conversation"]
    assert conversation["attached_order_no"] == phone_order.order_no
    assert conversation["assignee"]["name"] == "agent"
    assert created.json["url"] == f"/inbox#c={conversation['id']}"
    again = post_json(client, url)
    assert again.status_code == 200 and again.json["conversation"]["id"] == conversation["id"]
    assert post_json(client, "/api/orders/NO-SUCH-ORDER/conversation").status_code == 404
    assert client.post(url).status_code == 400  # no CSRF token: refused


def test_canned_replies_fill_order_number_and_status(client, auth, phone_order):
    auth.login("agent")
    refused = post_json(client, "/api/chat/canned", {"shortcut": "x", "body": "y"})
    assert refused.status_code == 403
    auth.logout()
    auth.login("supervisor")
    made = post_json(client, "/api/chat/canned", {
        "shortcut": "status", "title": "Order status",
        "body": "Order {order_no}: {status_explanation} {unknown}"})
    assert made.status_code == 201, made.json
    duplicate = post_json(client, "/api/chat/canned", {"shortcut": "status", "body": "again"})
    assert duplicate.status_code == 409
    opened = post_json(client, f"/api/orders/{phone_order.order_no}/conversation").json
    rendered = post_json(client, f"/api/chat/canned/{made.json['id']}/render",
                         {"conversation_id": opened["conversation"]["id"]})
    body = rendered.json["body"]
    assert body.startswith(f"Order {phone_order.order_no}: ")
    assert "{status_explanation}" not in body and body.endswith("{unknown}")
    assert [r["shortcut"] for r in client.get("/api/chat/canned").json["results"]] == ["status"]


def test_response_time_metrics_for_supervisors(app, client, auth):
    from console.extensions import socketio
    session, _ = widget(client)
    cid = session["conversation_id"]
    customer = socketio.test_client(app, namespace="/customer", auth={"token": session["token"]})
    customer.emit("message", {"conversation_id": cid, "client_id": "1", "body": "help"},
                  namespace="/customer", callback=True)
    auth.login("agent")
    agent = socketio.test_client(app, namespace="/agent", flask_test_client=client)
    assert agent.is_connected("/agent")
    ack = agent.emit("message", {"conversation_id": cid, "client_id": "r", "body": "hi"},
                     namespace="/agent", callback=True)
    assert ack["seq"] == 2
    post_json(client, f"/api/chat/conversations/{cid}/resolve")
    assert client.get("/api/metrics/response-times").status_code == 403
    auth.logout()
    auth.login("supervisor")
    metrics = client.get("/api/metrics/response-times").json
    assert metrics["conversations"] == 1
    for measure in ("first_response", "assignment", "resolution"):
        assert metrics["overall"][measure]["count"] == 1
        assert metrics["overall"][measure]["median"] >= 0
    assert metrics["agents"][0]["agent"]["name"] == "agent"
    empty = client.get("/api/metrics/response-times?from=2001-01-01&to=2001-01-31").json
    assert empty["conversations"] == 0 and empty["overall"]["first_response"]["median"] is None
    bad = client.get("/api/metrics/response-times?from=yesterday")
    assert bad.status_code == 400


# --- proactive notices -----------------------------------------------------------------------

def test_a_linked_order_changing_status_is_told_to_the_customer(app, client, phone_order):
    from console import signals
    from console.extensions import socketio
    session, headers = widget(client)
    client.post("/api/widget/verify-order", headers=headers, json={
        "order_no": phone_order.order_no, "phone_tail": phone_order.buyer.phone[-4:]})
    customer = socketio.test_client(app, namespace="/customer", auth={"token": session["token"]})
    customer.get_received("/customer")
    with app.test_request_context("/"):
        for _ in range(2):  # the same change twice: one notice
            signals.order_changed.send("actions", order_no=phone_order.order_no,
                                       status="refunded", previous=phone_order.status)
    received = customer.get_received("/customer")
    notices = [e["args"][0] if isinstance(e["args"], list) else e["args"]
               for e in received if e["name"] == "message"]
    updates = [e["args"][0] for e in received if e["name"] == "order_update"]
    assert len(notices) == 1 and notices[0]["sender"] == "system"
    assert phone_order.order_no in notices[0]["body"] and "Refunded" in notices[0]["body"]
    assert updates and updates[0]["status"] == "refunded"
    history = customer.emit("resume", {"conversation_id": session["conversation_id"],
                                       "after_seq": 0}, namespace="/customer", callback=True)
    assert [m["sender"] for m in history["messages"]] == ["system", "system"]  # verified, notice


# --- edit requests and cancel from the widget (the real actions service) ---------------------

def verified_widget(client, order) -> dict:
    _, headers = widget(client)
    answer = client.post("/api/widget/verify-order", headers=headers, json={
        "order_no": order.order_no, "phone_tail": order.buyer.phone[-4:]})
    assert answer.status_code == 200, answer.json
    return headers


def test_edit_request_from_the_widget_reaches_the_agents(client, auth, demo_orders, loaded_store):
    waiting = next(o for o in demo_orders if o.buyer.phone and o.status in
                   ("pending_payment", "paid", "processing"))
    done = next(o for o in demo_orders if o.buyer.phone and o.status == "completed")
    headers = verified_widget(client, waiting)
    answer = client.post(f"/api/widget/orders/{waiting.order_no}/edit-request", headers=headers,
                         json={"changes": {"recipient_account": "new-account-42"},
                               "reason": "I typed the wrong account"})
    assert answer.status_code == 201, answer.json
    assert answer.json["request"]["state"] == "pending"
    assert answer.json["request"]["changes"] == {"recipient_account": "new-account-42"}

    headers_done = verified_widget(client, done)
    refused = client.post(f"/api/widget/orders/{done.order_no}/edit-request",
                          headers=headers_done, json={"changes": {"remark": "x"}, "reason": "x"})
    assert refused.status_code == 409
    unverified = client.post(f"/api/widget/orders/{done.order_no}/edit-request", headers=headers,
                             json={"changes": {"remark": "x"}})
    assert unverified.status_code == 403

    auth.login("agent")
    row = next(c for c in client.get("/api/chat/conversations?view=queue").json["results"]
               if waiting.order_no in (c["last_preview"] or ""))
    assert row["waiting_since"] is not None


def test_cancel_outside_the_window_is_refused_in_plain_words(client, demo_orders, loaded_store):
    order = next(o for o in demo_orders if o.buyer.phone and o.status in ("paid", "processing"))
    headers = verified_widget(client, order)
    url = f"/api/widget/orders/{order.order_no}/cancel"
    assert client.post(url, headers=headers, json={"reason": "x"}).status_code == 400
    refused = client.post(url, headers={**headers, "Idempotency-Key": "k1"}, json={"reason": "x"})
    assert refused.status_code == 409
    assert refused.json["error"]["code"] in ("cancel_window_closed", "not_allowed")
    assert refused.json["error"]["message"]


def test_a_decided_edit_request_is_told_to_the_customer(app, client, phone_order):
    from console import signals
    from console.extensions import socketio
    headers = verified_widget(client, phone_order)
    token = headers["Authorization"].split()[1]
    customer = socketio.test_client(app, namespace="/customer", auth={"token": token})
    customer.get_received("/customer")
    with app.test_request_context("/"):
        signals.edit_request_decided.send("actions", request={
            "id": 7, "order_no": phone_order.order_no, "state": "rejected",
            "note": "The account was already credited."}, actor=None)
    notices = [e["args"] for e in customer.get_received("/customer") if e["name"] == "message"]
    notices = [n[0] if isinstance(n, list) else n for n in notices]
    assert len(notices) == 1
    assert "not approved" in notices[0]["body"] and "already credited" in notices[0]["body"]


def test_the_order_page_offers_the_after_sales_chat(client, auth, phone_order):
    auth.login("agent")
    page = client.get(f"/orders/{phone_order.order_no}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="chat-button"' in html
    assert f"/api/orders/{phone_order.order_no}/conversation" in html
