"""The order detail API and page through the real app: shape, masking, audited reveals,
notes, tags, related orders, roles and errors (SQLite console DB and reference store)."""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from adapters.base import Buyer, CardKey, Order, OrderEvent, PaymentProof, Product
from console.extensions import db
from console.models import AuditRecord, User
from tests.conftest import csrf_from

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=timezone.utc)
SECRET = "ZX81-SECRET-7777"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def make_order(order_no: str = "KDT0001", **changes) -> Order:
    """A phone top-up, paid, whose supplier is still working on it."""
    order = Order(
        order_no=order_no, status="processing", created_at=at(0), paid_at=at(2),
        updated_at=at(5),
        product=Product(sku="CMCC-100", name="中国移动话费100元", category="phone_topup"),
        quantity=1, amount_paid=Decimal("98.00"), face_value=Decimal("100.00"),
        discount=Decimal("2.00"),
        buyer=Buyer(account="zhang3", phone="13900001111", email="zhang3@example.com"),
        recipient_account="13900001111", buyer_ip="192.0.2.10",
        payment=PaymentProof(channel="wechat", transaction_id="4200000001", payer="张*",
                             amount=Decimal("98.00"), paid_at=at(2)),
        card_keys=(CardKey("SER-1", SECRET, "delivered", at(4)),
                   CardKey("", "NO-SERIAL-AAAA", "voided", at(4)),
                   CardKey("", "NO-SERIAL-BBBB", "reissued", at(4))),
        events=(OrderEvent(at(0), "created", "placed"),
                OrderEvent(at(2), "paid", "wechat ok"),
                OrderEvent(at(3), "supplier_called", "POST /topup"),
                OrderEvent(at(5), "supplier_answered", '{"code":2001}')),
        remark="急用",
    )
    return order.replace(**changes)


@pytest.fixture
def orders():
    return [
        make_order(),
        make_order("KDT0002", buyer_ip="192.0.2.10", created_at=at(30), paid_at=at(31),
                   buyer=Buyer(phone="13700002222")),
        make_order("KDT0003", buyer_ip="192.0.2.99", created_at=at(60), paid_at=at(61)),
        make_order("KDT0004", status="completed",
                   payment=PaymentProof(channel="alipay", transaction_id="2026X",
                                        amount=Decimal("90.00"), paid_at=at(2),
                                        proof_url="https://shop.example/proofs/1.png")),
        make_order("KDT0005", payment=PaymentProof(
            channel="alipay", transaction_id="T5", amount=Decimal("98.00"), paid_at=at(2),
            proof_url="javascript:alert(1)")),
    ]


@pytest.fixture
def shop(app, store, orders):
    store.load(orders)
    return store


@pytest.fixture
def bearer(token_for):
    return {"Authorization": "Bearer " + token_for("agent")}


def cookie_headers(client) -> dict:
    """What order.js sends: the CSRF token from the page's meta tag."""
    return {"X-CSRFToken": csrf_from(client.get("/").get_data(as_text=True))}


def audit_rows(app, *kinds: str) -> list[AuditRecord]:
    with app.app_context():
        query = db.select(AuditRecord).order_by(AuditRecord.id)
        if kinds:
            query = query.where(AuditRecord.kind.in_(kinds))
        rows = db.session.execute(query).scalars().all()
        db.session.expunge_all()
        return rows


# --- GET /api/orders/<no> -------------------------------------------------------

def test_detail_keeps_the_order_fields_and_masks_secrets_and_contacts(client, shop, bearer):
    response = client.get("/api/orders/KDT0001", headers=bearer)
    assert response.status_code == 200
    data = response.get_json()
    for key in ("order_no", "status", "product", "quantity", "face_value", "amount_paid",
                "discount", "buyer", "recipient_account", "buyer_ip", "payment", "card_keys",
                "events", "remark", "tags"):
        assert key in data
    assert data["buyer"] == {"account": "zhang3", "phone": "139****1111",
                             "email": "z***@example.com", "masked": True}
    assert [k["secret"] for k in data["card_keys"]] == \
        ["*" * 12 + "7777", "**********AAAA", "**********BBBB"]
    assert all(k["secret_masked"] for k in data["card_keys"])
    body = response.get_data(as_text=True)
    assert SECRET not in body and "NO-SERIAL" not in body
    assert "zhang3@example.com" not in body


def test_detail_tells_the_story_in_english(client, shop, bearer):
    data = client.get("/api/orders/KDT0001?lang=en", headers=bearer).get_json()
    explanation = data["explanation"]
    assert explanation["lang"] == "en"
    assert explanation["status_label"] == "Processing"
    assert "operator" in explanation["text"]
    assert explanation["wait_minutes"] == 10
    assert "10 minutes" in explanation["expected_wait"]

    timeline = data["timeline"]
    assert [s["kind"] for s in timeline["steps"]] == \
        ["created", "paid", "supplier_called", "supplier_answered", "delivered"]
    assert [s["state"] for s in timeline["steps"]] == \
        ["done", "done", "done", "current", "pending"]
    assert timeline["current"] == "supplier_answered"
    assert timeline["current_index"] == 3
    assert [s["since_previous_seconds"] for s in timeline["steps"]] == [None, 120, 60, 120, None]
    assert timeline["steps"][1]["since_previous"] == "2 min"
    assert timeline["stuck"] is True  # the fixture's clock stopped long ago
    assert timeline["expected_wait_minutes"] == 10
    assert data["proof_warnings"] == []
    assert data["notes"] == [] and data["agent_tags"] == []


def test_detail_in_chinese_follows_the_agents_language_switch(client, auth, shop):
    auth.login("agent")
    token = csrf_from(client.get("/").get_data(as_text=True))
    client.post("/language/zh_CN", data={"csrf_token": token, "next": "/"})
    data = client.get("/api/orders/KDT0001").get_json()
    assert data["explanation"]["lang"] == "zh_CN"
    assert data["explanation"]["status_label"] == "处理中"
    assert "运营商" in data["explanation"]["text"]
    assert data["timeline"]["steps"][1]["label"] == "已付款"
    assert data["timeline"]["steps"][1]["since_previous"] == "2分钟"
    page = client.get("/orders/KDT0001").get_data(as_text=True)
    assert "运营商" in page and "处理中" in page


def test_proof_warnings_and_safe_proof_image(client, shop, bearer):
    mismatched = client.get("/api/orders/KDT0004", headers=bearer).get_json()
    assert [w["code"] for w in mismatched["proof_warnings"]] == ["amount_mismatch"]
    assert "90.00" in mismatched["proof_warnings"][0]["message"]
    assert mismatched["proof_image"] == "https://shop.example/proofs/1.png"
    hostile = client.get("/api/orders/KDT0005", headers=bearer).get_json()
    assert hostile["proof_image"] is None
    assert hostile["payment"]["proof_url"] == "javascript:alert(1)"


def test_related_counts_and_links(client, shop, bearer):
    data = client.get("/api/orders/KDT0001", headers=bearer).get_json()
    # Same IP: KDT0002, 0004, 0005.  Same buyer (phone): KDT0003, 0004, 0005.
    expected = shop.related("KDT0001")
    assert (expected.same_ip, expected.same_buyer) == (3, 3)
    assert data["related"]["same_ip"] == 3 and data["related"]["same_buyer"] == 3
    assert data["related"]["same_ip_search"] == "/?q=192.0.2.10"
    assert data["related"]["same_buyer_search"] == "/orders/KDT0001/related/same_buyer"
    assert "13900001111" not in data["related"]["same_buyer_search"]


def test_related_counts_match_the_demo_store(client, loaded_store, demo_orders, bearer):
    by_ip = Counter(o.buyer_ip for o in demo_orders)
    busiest_ip, count = by_ip.most_common(1)[0]
    order = next(o for o in demo_orders if o.buyer_ip == busiest_ip)
    data = client.get(f"/api/orders/{order.order_no}", headers=bearer).get_json()
    assert data["related"]["same_ip"] == count - 1


def test_the_same_buyer_page_lists_the_orders_with_the_contact_masked(app, client, auth, shop):
    auth.login("agent")
    page = client.get("/orders/KDT0001/related/same_buyer")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # the buyer's other orders (same phone), not the order itself nor another buyer's
    listed = [no for no in ("KDT0001", "KDT0002", "KDT0003", "KDT0004", "KDT0005")
              if f'data-order="{no}"' in html]
    assert listed == ["KDT0001", "KDT0003", "KDT0004", "KDT0005"]  # KDT0001: the page root
    assert html.count("<tr data-order=") == 3
    assert "13900001111" not in html and "zhang3@example.com" not in html
    assert "139****1111" in html
    assert 'data-reveal-url="/api/orders/KDT0001/reveal"' in html
    # looking is not revealing: nothing to audit, nothing to search by in the URL
    assert audit_rows(app, "reveal_contact") == []
    ip = client.get("/orders/KDT0001/related/same_ip")
    assert ip.headers["Location"].endswith("/?q=192.0.2.10")
    assert client.get("/orders/KDT0001/related/neighbours").status_code == 404


def test_the_same_buyer_page_reveals_only_through_the_audited_post(app, client, auth, shop):
    auth.login("agent")
    html = client.get("/orders/KDT0001/related/same_buyer").get_data(as_text=True)
    shown = client.post("/api/orders/KDT0001/reveal",
                        json={"what": "contact", "reason": "calling the buyer back"},
                        headers={"X-CSRFToken": csrf_from(html)})
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    assert shown.get_json()["phone"] == "13900001111"
    [record] = audit_rows(app, "reveal_contact")
    assert (record.actor_name, record.order_no, record.detail["reason"]) == \
        ("agent", "KDT0001", "calling the buyer back")


def test_unknown_order_is_a_json_404_everywhere(client, shop, bearer):
    for method, url, body in (
        ("GET", "/api/orders/NOPE", None),
        ("POST", "/api/orders/NOPE/reveal", {"what": "contact", "reason": "customer asked"}),
        ("GET", "/api/orders/NOPE/notes", None),
        ("POST", "/api/orders/NOPE/notes", {"body": "hello"}),
        ("GET", "/api/orders/NOPE/tags", None),
        ("POST", "/api/orders/NOPE/tags", {"tag": "suspicious"}),
    ):
        response = client.open(url, method=method, json=body, headers=bearer)
        assert response.status_code == 404, url
        assert response.get_json()["error"]["code"] == "order_not_found", url


# --- roles, tokens, CSRF --------------------------------------------------------

def test_anonymous_callers_get_401_and_pages_redirect(client, shop):
    assert client.get("/api/orders/KDT0001").get_json()["error"]["code"] == \
        "authentication_required"
    response = client.post("/api/orders/KDT0001/reveal", json={"what": "contact", "reason": "customer asked"},
                           headers={"Authorization": "Bearer kd_not-a-token"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"
    page = client.get("/orders/KDT0001")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_a_user_below_agent_is_forbidden(app, client, shop, token_for):
    headers = {"Authorization": "Bearer " + token_for("agent")}
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.name == "agent")).scalar_one()
        user.role = "viewer"
        db.session.commit()
    for method, url in (("GET", "/api/orders/KDT0001"), ("POST", "/api/orders/KDT0001/reveal"),
                        ("POST", "/api/orders/KDT0001/notes"),
                        ("DELETE", "/api/orders/KDT0001/tags/x")):
        response = client.open(url, method=method, json={"what": "contact", "reason": "customer asked", "body": "x"},
                               headers=headers)
        assert response.status_code == 403, url
        assert response.get_json()["error"]["code"] == "forbidden"
    assert audit_rows(app, "reveal_contact", "note_added", "tag_removed") == []


def test_supervisors_may_reveal_too(app, client, shop, token_for):
    headers = {"Authorization": "Bearer " + token_for("supervisor")}
    response = client.post("/api/orders/KDT0001/reveal", json={"what": "contact", "reason": "customer asked"},
                           headers=headers)
    assert response.status_code == 200
    assert audit_rows(app, "reveal_contact")[0].actor_name == "supervisor"


def test_cookie_callers_need_the_csrf_header(app, client, auth, shop):
    auth.login("agent")
    refused = client.post("/api/orders/KDT0001/reveal", json={"what": "contact", "reason": "customer asked"})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    assert audit_rows(app, "reveal_contact") == []
    allowed = client.post("/api/orders/KDT0001/reveal", json={"what": "contact", "reason": "customer asked"},
                          headers=cookie_headers(client))
    assert allowed.status_code == 200


# --- reveals ----------------------------------------------------------------------

def test_reveal_contact_is_audited_with_who_when_what(app, client, shop, bearer):
    before = datetime.now(timezone.utc)
    response = client.post("/api/orders/KDT0001/reveal", json={"what": "contact", "reason": "customer asked"},
                           headers=bearer)
    assert response.get_json() == {"what": "contact", "order_no": "KDT0001",
                                   "account": "zhang3", "phone": "13900001111",
                                   "email": "zhang3@example.com",
                                   "recipient_account": "13900001111"}
    [record] = audit_rows(app, "reveal_contact")
    assert (record.actor_name, record.order_no) == ("agent", "KDT0001")
    assert record.detail["what"] == "contact"
    assert record.detail["fields"] == ["phone", "email"]
    when = record.at if record.at.tzinfo else record.at.replace(tzinfo=timezone.utc)
    assert when >= before - timedelta(seconds=1)


def test_reveal_key_by_serial_is_audited_without_the_secret(app, client, shop, bearer):
    response = client.post("/api/orders/KDT0001/reveal",
                           json={"what": "key", "reason": "customer asked", "serial": "SER-1"}, headers=bearer)
    assert response.status_code == 200
    assert response.get_json() == {"what": "key", "order_no": "KDT0001", "index": 0,
                                   "serial": "SER-1", "secret": SECRET, "status": "delivered"}
    [record] = audit_rows(app, "reveal_key")
    assert (record.actor_name, record.order_no, record.detail["what"],
            record.detail["serial"], record.detail["index"]) == \
        ("agent", "KDT0001", "key", "SER-1", 0)
    assert SECRET not in json.dumps(record.detail)


def test_keys_without_serials_are_revealed_by_position(app, client, shop, bearer):
    ambiguous = client.post("/api/orders/KDT0001/reveal", json={"what": "key", "reason": "customer asked", "serial": ""},
                            headers=bearer)
    assert ambiguous.status_code == 409
    assert ambiguous.get_json()["error"]["code"] == "ambiguous_serial"
    by_index = client.post("/api/orders/KDT0001/reveal",
                           json={"what": "key", "reason": "customer asked", "serial": "", "index": 2}, headers=bearer)
    assert by_index.get_json()["secret"] == "NO-SERIAL-BBBB"
    assert by_index.get_json()["status"] == "reissued"
    assert [r.detail["index"] for r in audit_rows(app, "reveal_key")] == [2]


@pytest.mark.parametrize("body, status, code", [
    ({"what": "key", "reason": "customer asked", "serial": "NOPE"}, 404, "card_key_not_found"),
    ({"what": "key", "reason": "customer asked", "index": 7}, 404, "card_key_not_found"),
    ({"what": "key", "reason": "customer asked", "serial": "SER-1", "index": 1}, 404, "card_key_not_found"),
    ({"what": "key", "reason": "customer asked", "index": "first"}, 400, "invalid_parameter"),
    ({"what": "key", "reason": "customer asked"}, 400, "reveal_error"),
    ({"what": "password"}, 400, "invalid_parameter"),
    ({}, 400, "invalid_parameter"),
])
def test_bad_reveals_are_clear_errors_and_reveal_nothing(app, client, shop, bearer, body,
                                                         status, code):
    response = client.post("/api/orders/KDT0001/reveal", json=body, headers=bearer)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert SECRET not in response.get_data(as_text=True)
    assert audit_rows(app, "reveal_key", "reveal_contact") == []


def test_reveal_needs_a_json_object(client, shop, bearer):
    response = client.post("/api/orders/KDT0001/reveal", data="[1, 2]",
                           content_type="application/json", headers=bearer)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


# --- notes ------------------------------------------------------------------------

def test_notes_are_added_listed_newest_first_and_audited(app, client, shop, bearer):
    first = client.post("/api/orders/KDT0001/notes", json={"body": "  called supplier  "},
                        headers=bearer)
    assert first.status_code == 201
    assert first.get_json()["note"]["body"] == "called supplier"
    assert first.get_json()["note"]["author"] == "agent"
    client.post("/api/orders/KDT0001/notes", json={"body": "supplier says 1h"}, headers=bearer)
    listed = client.get("/api/orders/KDT0001/notes", headers=bearer).get_json()["notes"]
    assert [n["body"] for n in listed] == ["supplier says 1h", "called supplier"]
    assert listed[0]["created_at"].endswith("+00:00")
    detail = client.get("/api/orders/KDT0001", headers=bearer).get_json()
    assert [n["body"] for n in detail["notes"]] == ["supplier says 1h", "called supplier"]
    assert client.get("/api/orders/KDT0002/notes", headers=bearer).get_json()["notes"] == []
    assert [r.order_no for r in audit_rows(app, "note_added")] == ["KDT0001", "KDT0001"]


@pytest.mark.parametrize("body", ["", "   ", None, "x" * 4001])
def test_empty_or_huge_notes_are_refused(client, shop, bearer, body):
    response = client.post("/api/orders/KDT0001/notes", json={"body": body}, headers=bearer)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_note"


def test_notes_are_escaped_on_the_page(client, auth, shop):
    auth.login("agent")
    client.post("/api/orders/KDT0001/notes", json={"body": "<script>alert(1)</script>"},
                headers=cookie_headers(client))
    html = client.get("/orders/KDT0001").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- tags ---------------------------------------------------------------------------

def test_tags_are_normalised_idempotent_removable_and_searchable(app, client, shop, bearer):
    from console.orders.tags import orders_tagged

    added = client.post("/api/orders/KDT0001/tags", json={"tag": "  Repeat   BUYER "},
                        headers=bearer).get_json()
    assert added["agent_tags"] == ["repeat buyer"]
    assert "repeat buyer" not in added["suggestions"] and "suspicious" in added["suggestions"]
    again = client.post("/api/orders/KDT0001/tags", json={"tag": "repeat buyer"},
                        headers=bearer).get_json()
    assert again["agent_tags"] == ["repeat buyer"]
    client.post("/api/orders/KDT0003/tags", json={"tag": "repeat buyer"}, headers=bearer)
    client.post("/api/orders/KDT0001/tags", json={"tag": "代充"}, headers=bearer)
    assert len(audit_rows(app, "tag_added")) == 3

    with app.app_context():
        assert orders_tagged("Repeat Buyer") == ["KDT0003", "KDT0001"]
        assert orders_tagged("repeat buyer", limit=1) == ["KDT0003"]
        assert orders_tagged("代充") == ["KDT0001"]
        assert orders_tagged("nobody uses this") == []
        assert orders_tagged("   ") == []

    detail = client.get("/api/orders/KDT0001", headers=bearer).get_json()
    assert detail["agent_tags"] == ["repeat buyer", "代充"]
    removed = client.delete("/api/orders/KDT0001/tags/Repeat%20Buyer", headers=bearer)
    assert removed.status_code == 200 and removed.get_json()["agent_tags"] == ["代充"]
    assert client.delete("/api/orders/KDT0001/tags/absent", headers=bearer).status_code == 200
    assert [r.detail["tag"] for r in audit_rows(app, "tag_removed")] == ["repeat buyer"]
    with app.app_context():
        assert orders_tagged("repeat buyer") == ["KDT0003"]


@pytest.mark.parametrize("tag", ["", "   ", "x" * 41, "bad\x00tag"])
def test_unreadable_tags_are_refused(client, shop, bearer, tag):
    response = client.post("/api/orders/KDT0001/tags", json={"tag": tag}, headers=bearer)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_tag"


def test_suggestions_learn_from_colleagues(client, shop, bearer):
    client.post("/api/orders/KDT0002/tags", json={"tag": "chargeback"}, headers=bearer)
    data = client.get("/api/orders/KDT0001/tags", headers=bearer).get_json()
    assert data["agent_tags"] == []
    assert data["suggestions"][:4] == ["repeat buyer", "suspicious", "agent purchase",
                                       "chargeback"]


# --- the page ----------------------------------------------------------------------

def test_page_shows_the_story_masked(client, auth, shop):
    auth.login("agent")
    response = client.get("/orders/KDT0001")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-kind="supplier_answered"' in html and 'aria-current="step"' in html
    assert "139****1111" in html and "z***@example.com" in html
    assert SECRET not in html and "NO-SERIAL-AAAA" not in html
    assert "zhang3@example.com" not in html
    assert 'id="stuck-banner"' in html
    assert "急用" in html
    assert 'href="/?q=192.0.2.10"' in html


def test_page_shows_only_safe_proof_images(client, auth, shop):
    auth.login("agent")
    safe = client.get("/orders/KDT0004").get_data(as_text=True)
    assert '<img id="proof-image" src="https://shop.example/proofs/1.png" ' \
           'referrerpolicy="no-referrer"' in safe
    hostile = client.get("/orders/KDT0005").get_data(as_text=True)
    assert "<img" not in hostile
    assert 'src="javascript:' not in hostile and 'href="javascript:' not in hostile


def test_page_for_an_unknown_order_is_a_friendly_404(client, auth, shop):
    auth.login("agent")
    response = client.get("/orders/NOPE")
    assert response.status_code == 404
    assert "order_not_found" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_page_offers_the_include_slots(app, client, auth, shop):
    """Other features plug panels in through two templates; they see ``order`` and ``view``."""
    from jinja2 import ChoiceLoader, DictLoader

    app.jinja_env.loader = ChoiceLoader([
        DictLoader({
            "orders/_actions.html": '<div id="slot-a">{{ order.order_no }}|{{ view.status_label }}</div>',
            "orders/_chat_button.html": '<div id="slot-c">{{ order.buyer.account }}</div>',
        }),
        app.jinja_env.loader,
    ])
    auth.login("agent")
    html = client.get("/orders/KDT0001").get_data(as_text=True)
    assert '<div id="slot-a">KDT0001|Processing</div>' in html
    assert '<div id="slot-c">zhang3</div>' in html


# --- PostgreSQL: the console DB (notes, tags, audit) and the store --------------------

@pytest.mark.postgres
def test_the_detail_story_on_postgresql(tmp_path, pg_store_url, orders):
    """Notes, tags, reveals and related counts with both databases on PostgreSQL."""
    from console.orders.tags import orders_tagged
    from console.people import issue_token, save_user
    from console.store import EXTENSION_KEY, get_store
    from tests.conftest import make_app

    app = make_app(tmp_path, store_url=pg_store_url, DATABASE_URL=pg_store_url)
    with app.app_context():
        save_user("agent", "agent", "agent-pass-1")
        get_store().load(orders)
        headers = {"Authorization": "Bearer " + issue_token("agent", "pg")}
    client = app.test_client()
    try:
        for order_no in ("KDT0002", "KDT0001"):
            client.post(f"/api/orders/{order_no}/tags", json={"tag": "Suspicious"},
                        headers=headers)
        client.post("/api/orders/KDT0001/notes", json={"body": "first"}, headers=headers)
        client.post("/api/orders/KDT0001/notes", json={"body": "second"}, headers=headers)
        revealed = client.post("/api/orders/KDT0001/reveal",
                               json={"what": "key", "reason": "customer asked", "serial": "SER-1"}, headers=headers)
        assert revealed.get_json()["secret"] == SECRET
        data = client.get("/api/orders/KDT0001", headers=headers).get_json()
        assert data["agent_tags"] == ["suspicious"]
        assert [n["body"] for n in data["notes"]] == ["second", "first"]
        assert data["notes"][0]["created_at"].endswith("+00:00")
        assert (data["related"]["same_ip"], data["related"]["same_buyer"]) == (3, 3)
        assert data["timeline"]["current"] == "supplier_answered"
        with app.app_context():
            assert orders_tagged("suspicious") == ["KDT0001", "KDT0002"]
            kinds = [r.kind for r in db.session.execute(
                db.select(AuditRecord).order_by(AuditRecord.id)).scalars()]
        mine = [k for k in kinds if k in ("tag_added", "note_added", "reveal_key")]
        assert mine == ["tag_added", "tag_added", "note_added", "note_added", "reveal_key"]
    finally:
        store = app.extensions.get(EXTENSION_KEY)
        if store is not None:
            store.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
