"""Every route × every role (agent, supervisor, admin), anonymous and a widget customer,
against an explicit table of who may reach it.

The table is the policy: a route added without a row fails
``test_every_route_has_an_entry``, so nobody can ship an endpoint without deciding who may
call it.  "Reach" means the access check let the request through: the answer may still be
a 400 or 404 about the request itself; a refusal is a 401, a 403 ``forbidden``, or a
redirect to the sign-in page."""
from __future__ import annotations

import io
import re

import pytest

from tests.conftest import PASSWORDS, csrf_from, make_app
from tests.order_factory import load, make_order

# who may reach a route: the lowest staff role, "signed_in" (any staff role), "public"
# (everyone), or "customer" (a widget token, and nobody else)
PUBLIC, CUSTOMER, SIGNED_IN = "public", "customer", "signed_in"
OWN_OR_AGENT = "own_customer_or_agent"  # the conversation's own customer, or any agent
# routes that answer a refusal with 404, so a stranger cannot tell what exists
HIDDEN = {("GET", "/api/chat/attachments/<int:attachment_id>")}
AGENT, SUPERVISOR, ADMIN = "agent", "supervisor", "admin"

EXPECTED: dict[tuple[str, str], str] = {
    ("GET", "/"): SIGNED_IN,
    ("POST", "/api/actions/<int:action_id>/approve"): SUPERVISOR,
    ("POST", "/api/actions/<int:action_id>/reject"): SUPERVISOR,
    ("GET", "/api/audit"): SUPERVISOR,
    ("GET", "/api/audit.csv"): SUPERVISOR,
    ("GET", "/api/chat/agents"): AGENT,
    ("POST", "/api/chat/agents/<int:user_id>/limit"): SUPERVISOR,
    ("GET", "/api/chat/attachments/<int:attachment_id>"): OWN_OR_AGENT,
    ("GET", "/api/chat/canned"): AGENT,
    ("POST", "/api/chat/canned"): SUPERVISOR,
    ("PUT", "/api/chat/canned/<int:reply_id>"): SUPERVISOR,
    ("DELETE", "/api/chat/canned/<int:reply_id>"): SUPERVISOR,
    ("POST", "/api/chat/canned/<int:reply_id>/render"): AGENT,
    ("GET", "/api/chat/conversations"): AGENT,
    ("GET", "/api/chat/conversations/<int:conversation_id>"): AGENT,
    ("POST", "/api/chat/conversations/<int:conversation_id>/assign"): AGENT,
    ("POST", "/api/chat/conversations/<int:conversation_id>/reopen"): AGENT,
    ("POST", "/api/chat/conversations/<int:conversation_id>/resolve"): AGENT,
    ("POST", "/api/chat/conversations/<int:conversation_id>/take"): AGENT,
    ("POST", "/api/edit-requests"): AGENT,
    ("GET", "/api/edit-requests"): AGENT,
    ("POST", "/api/edit-requests/<int:request_id>/approve"): AGENT,
    ("POST", "/api/edit-requests/<int:request_id>/reject"): AGENT,
    ("GET", "/api/metrics/response-times"): SUPERVISOR,
    ("GET", "/api/metrics/sla-breaches"): SUPERVISOR,
    ("GET", "/api/orders"): AGENT,
    ("GET", "/api/orders/<order_no>"): AGENT,
    ("POST", "/api/orders/<order_no>/cancel"): AGENT,
    ("POST", "/api/orders/<order_no>/conversation"): AGENT,
    ("GET", "/api/orders/<order_no>/notes"): AGENT,
    ("POST", "/api/orders/<order_no>/notes"): AGENT,
    ("POST", "/api/orders/<order_no>/refund"): AGENT,
    ("POST", "/api/orders/<order_no>/reissue"): AGENT,
    ("POST", "/api/orders/<order_no>/reveal"): AGENT,
    ("GET", "/api/orders/<order_no>/tags"): AGENT,
    ("POST", "/api/orders/<order_no>/tags"): AGENT,
    ("DELETE", "/api/orders/<order_no>/tags/<path:tag>"): AGENT,
    ("GET", "/api/orders/search"): AGENT,
    ("GET", "/api/orders/search.csv"): AGENT,
    ("GET", "/api/orders/search.xlsx"): AGENT,
    ("GET", "/api/widget/conversation"): CUSTOMER,
    ("GET", "/api/widget/orders/<order_no>"): CUSTOMER,
    ("POST", "/api/widget/orders/<order_no>/after-sales"): CUSTOMER,
    ("POST", "/api/widget/orders/<order_no>/cancel"): CUSTOMER,
    ("POST", "/api/widget/orders/<order_no>/edit-request"): CUSTOMER,
    ("POST", "/api/widget/sessions"): PUBLIC,
    ("POST", "/api/widget/uploads"): CUSTOMER,
    ("POST", "/api/widget/verify-order"): CUSTOMER,
    # the shop's HMAC signature is its credential (tests/integration/test_webhooks.py)
    ("POST", "/api/webhooks/orders"): PUBLIC,
    ("GET", "/alerts"): AGENT,
    ("GET", "/api/alerts/stuck-orders"): AGENT,
    ("GET", "/api/incidents"): SUPERVISOR,
    ("GET", "/api/incidents/<int:incident_id>"): SUPERVISOR,
    ("POST", "/api/incidents/<int:incident_id>/close"): SUPERVISOR,
    ("POST", "/api/incidents/<int:incident_id>/notify"): SUPERVISOR,
    ("GET", "/api/supervisor/analytics"): SUPERVISOR,
    ("GET", "/api/supervisor/export/<table>.csv"): SUPERVISOR,
    ("GET", "/api/supervisor/live"): SUPERVISOR,
    ("GET", "/approvals"): SUPERVISOR,
    ("GET", "/audit"): SUPERVISOR,
    ("GET", "/chat"): PUBLIC,
    ("GET", "/edit-requests"): AGENT,
    ("GET", "/favicon.ico"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/inbox"): AGENT,
    ("POST", "/language/<code>"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): SIGNED_IN,
    ("GET", "/orders/<order_no>"): AGENT,
    ("GET", "/orders/<order_no>/related/<which>"): AGENT,
    ("GET", "/static/<path:filename>"): PUBLIC,
    ("GET", "/supervisor"): SUPERVISOR,
    ("POST", "/api/reauth"): SIGNED_IN,
    ("POST", "/api/users/<name>/disable"): ADMIN,
    ("POST", "/api/users/<name>/enable"): ADMIN,
}

CALLERS = ("anonymous", CUSTOMER, AGENT, SUPERVISOR, ADMIN)
RANK = {AGENT: 0, SUPERVISOR: 1, ADMIN: 2}
# values for path parameters: real objects where they exist, so allowed calls get far
PARAMS = {"order_no": "MX-1", "action_id": "1", "user_id": "1", "attachment_id": "1",
          "reply_id": "1", "conversation_id": "1", "request_id": "1", "tag": "vip",
          "which": "same_ip", "code": "en", "filename": "widget.js", "incident_id": "1",
          "table": "agents", "name": "nobody"}


def may(required: str, caller: str) -> bool:
    if required == PUBLIC:
        return True
    if required == CUSTOMER:
        return caller == CUSTOMER
    if required == OWN_OR_AGENT:
        return caller != "anonymous"
    if caller in ("anonymous", CUSTOMER):
        return False
    return required == SIGNED_IN or RANK[caller] >= RANK[required]


def routes(app) -> list[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((method, rule.rule))
    return sorted(found)


def fill(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: PARAMS[m.group(1)], rule)


def refused(response) -> bool:
    """The access check said no (not: the request itself was wrong)."""
    if response.status_code in (301, 302, 303):
        # the sign-in page with where to come back to (a plain /login is a sign-out's)
        location = response.headers.get("Location", "")
        return "/login" in location and "next=" in location
    if response.status_code == 401:
        return True
    if response.status_code == 403:
        body = response.get_json(silent=True) or {}
        code = (body.get("error") or {}).get("code")
        return code == "forbidden" or b"forbidden" in response.data
    return False


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("matrix")
    app = make_app(tmp)
    with app.app_context():
        from console.chat.models import CannedReply
        from console.extensions import db
        from console.people import issue_token, save_user
        from console.store import get_store
        for name, password in PASSWORDS.items():
            save_user(name, name, password)
        load(get_store(), make_order("MX-1", status="delivered", keys=1))
        db.session.add(CannedReply(shortcut="hi", title="Hi", body="Hello {order_no}"))
        db.session.commit()
        tokens = {name: issue_token(name, "matrix") for name in PASSWORDS}
    client = app.test_client()
    widget = client.post("/api/widget/sessions", json={}).get_json()
    tokens[CUSTOMER] = widget["token"]
    shot = client.post("/api/widget/uploads", headers={
        "Authorization": f"Bearer {widget['token']}"}, data={"file": (
            io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * 32), "shot.png")})
    assert shot.status_code in (200, 201), shot.data
    assert PARAMS["attachment_id"] == str(shot.get_json()["attachment"]["id"])
    yield app, tokens
    with app.app_context():
        from console.store import get_store
        get_store().close()


def test_every_route_has_an_entry(world):
    app, _ = world
    present = set(routes(app))
    missing = sorted(present - set(EXPECTED))
    stale = sorted(set(EXPECTED) - present)
    assert missing == [], f"routes without an access entry: {missing}"
    assert stale == [], f"entries for routes that no longer exist: {stale}"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("method,rule", sorted(EXPECTED))
def test_access_matches_the_table(world, method, rule, caller):
    app, tokens = world
    client = app.test_client()  # no cookies from another call
    headers = {"Idempotency-Key": f"matrix-{caller}-{method}-{rule}"}
    if caller == "anonymous":
        # a CSRF token of its own, so only the access check can refuse
        headers["X-CSRFToken"] = csrf_from(client.get("/login").get_data(as_text=True))
    else:
        headers["Authorization"] = f"Bearer {tokens[caller]}"
    body = {} if method in ("POST", "PUT") else None
    response = client.open(fill(rule), method=method, json=body, headers=headers)
    expected = may(EXPECTED[(method, rule)], caller)
    assert response.status_code < 500, (response.status_code, response.data[:300])
    said_no = refused(response) or ((method, rule) in HIDDEN and response.status_code == 404)
    assert said_no is not expected, (response.status_code, response.data[:300])
