"""Phones, emails and IPs are masked in every list for every role; exports are masked unless
the role is allowed (admins by default), and every export is audited."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from console.pii import mask_contact, mask_ip, mask_text
from tests.conftest import PASSWORDS, make_app, sample_orders

ROLES = tuple(PASSWORDS)


@pytest.fixture
def shop(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        from console.people import save_user
        from console.store import get_store
        for name, password in PASSWORDS.items():
            save_user(name, name, password)
        orders = sample_orders(60, seed=11)
        get_store().load(orders)
    # the ones the tests search for have a phone and an IP
    yield app, sorted(orders, key=lambda o: not (o.buyer.phone and o.buyer_ip))
    with app.app_context():
        from console.store import get_store
        get_store().close()


def bearer(app, name: str) -> dict:
    from console.people import issue_token
    with app.app_context():
        return {"Authorization": f"Bearer {issue_token(name, 'pii')}"}


def raw_contacts(orders) -> set[str]:
    """Every full phone, email and IP the store holds."""
    found: set[str] = set()
    for order in orders:
        for value in (order.buyer.phone, order.buyer.email, order.buyer_ip):
            if value:
                found.add(value)
    return found


def leaked(text: str, secrets: set[str]) -> list[str]:
    return sorted(s for s in secrets if s in text)


def export_rows(app):
    from console.extensions import db
    from console.models import AuditRecord
    with app.app_context():
        return db.session.execute(db.select(AuditRecord).where(AuditRecord.kind == "export")
                                  .order_by(AuditRecord.id)).scalars().all()


def test_masking_helpers_keep_just_enough():
    assert mask_ip("203.0.113.77") == "203.0.*.*"
    assert mask_ip("2001:db8::1") == "2001:db8:*"
    assert mask_contact("13812345678") == "138****5678"
    assert mask_contact("zhang.wei@example.com") == "z***@example.com"
    text = mask_text("call 13812345678 or +86 138 1234 5678, mail a.b@qq.com from 10.1.2.3")
    assert "13812345678" not in text and "1234 5678" not in text
    assert "a.b@qq.com" not in text and "10.1.2.3" not in text
    # order numbers, amounts and times are not contacts
    assert mask_text("KD202611103622496392 paid 98.50 at 13:45:00") == \
        "KD202611103622496392 paid 98.50 at 13:45:00"


@pytest.mark.parametrize("role", ROLES)
def test_search_results_and_latest_list_are_masked_for_every_role(shop, role):
    app, orders = shop
    client = app.test_client()
    headers = bearer(app, role)
    secrets = raw_contacts(orders)
    phone, ip = orders[0].buyer.phone, orders[3].buyer_ip
    # the answer echoes what the agent typed (the parsed query); that is not a leak
    for path, typed in ((f"/api/orders/search?q=phone ending {phone[-4:]}&limit=200", None),
                        ("/api/orders?limit=200", None),
                        (f"/api/orders/search?q={ip}", ip)):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200, path
        assert answer.get_json()["results"], path
        assert leaked(answer.get_data(as_text=True), secrets - {typed}) == [], path


def test_search_page_and_audit_list_are_masked(shop):
    app, orders = shop
    client = app.test_client()
    from tests.conftest import AuthActions
    auth = AuthActions(client)
    auth.login("admin")
    secrets = raw_contacts(orders)
    page = client.get(f"/?q={orders[1].buyer.phone}")
    assert page.status_code == 200 and orders[1].order_no in page.get_data(as_text=True)
    assert leaked(page.get_data(as_text=True), secrets - {orders[1].buyer.phone}) == []
    # the sign-in left an audit row with the client's IP: lists show it masked
    with app.app_context():
        from console import audit
        from console.extensions import db
        with app.test_request_context(environ_base={"REMOTE_ADDR": "198.51.100.23"}):
            audit.record("login", actor_name="someone", note="from 198.51.100.23")
            db.session.commit()
    for path in ("/audit", "/api/audit"):
        text = client.get(path).get_data(as_text=True)
        assert "198.51.100.23" not in text, path
        assert "198.51.*.*" in text, path


def test_inbox_masks_contacts_and_contacts_typed_in_messages(shop):
    app, _ = shop
    client = app.test_client()
    session = client.post("/api/widget/sessions", json={}).get_json()
    from console.chat import service
    from console.chat.models import Conversation
    from console.extensions import db
    with app.app_context():
        conversation = db.session.get(Conversation, session["conversation_id"])
        conversation.customer_phone = "13912345678"
        conversation.customer_email = "buyer.one@example.com"
        db.session.commit()
        service.post_message(db.session, conversation.id, sender_kind="customer",
                             body="my phone is 13912345678, mail buyer.one@example.com",
                             client_id="c1")
    for role in ROLES:
        listing = client.get("/api/chat/conversations", headers=bearer(app, role))
        assert listing.status_code == 200
        assert listing.get_json()["results"], role
        text = listing.get_data(as_text=True)
        assert "13912345678" not in text and "buyer.one@example.com" not in text, role
        assert "139****5678" in text and "b***@example.com" in text


@pytest.mark.parametrize("role,unmasked", [("agent", False), ("supervisor", False),
                                           ("admin", True)])
def test_search_exports_are_masked_unless_the_role_may_and_are_audited(shop, role, unmasked):
    app, orders = shop
    client = app.test_client()
    headers = bearer(app, role)
    phone = orders[0].buyer.phone
    csv_text = client.get(f"/api/orders/search.csv?q={phone}", headers=headers)\
        .get_data(as_text=True)
    assert (phone in csv_text) is unmasked
    assert orders[0].order_no in csv_text
    book = client.get(f"/api/orders/search.xlsx?q={phone}", headers=headers)
    sheet = load_workbook(io.BytesIO(book.data)).active
    cells = {str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None}
    assert (phone in cells) is unmasked
    rows = export_rows(app)
    assert [r.detail["what"] for r in rows] == ["search_csv", "search_xlsx"]
    for row in rows:
        assert row.actor_name == role and row.actor_role == role
        assert row.detail["masked"] is (not unmasked)
        assert row.detail["rows"] >= 1
        assert row.request_id


def test_unmasked_export_roles_setting_names_the_roles(tmp_path):
    app = make_app(tmp_path, UNMASKED_EXPORT_ROLES="supervisor,admin")
    with app.app_context():
        from console.people import save_user
        from console.store import get_store
        save_user("sup", "supervisor", "sup-pass-1")
        save_user("ag", "agent", "agent-pass-1")
        orders = [o for o in sample_orders(10, seed=3) if o.buyer.phone]
        get_store().load(orders)
    client = app.test_client()
    phone = orders[0].buyer.phone
    assert phone in client.get(f"/api/orders/search.csv?q={phone}",
                               headers=bearer(app, "sup")).get_data(as_text=True)
    assert phone not in client.get(f"/api/orders/search.csv?q={phone}",
                                   headers=bearer(app, "ag")).get_data(as_text=True)
    with app.app_context():
        from console.store import get_store
        get_store().close()


def test_audit_csv_masks_ips_unless_admin_and_is_audited(shop):
    app, _ = shop
    client = app.test_client()
    with app.test_request_context(environ_base={"REMOTE_ADDR": "192.0.2.44"}):
        from console import audit
        from console.extensions import db
        audit.record("login", actor_name="x")
        db.session.commit()
    sup = client.get("/api/audit.csv", headers=bearer(app, "supervisor")).get_data(as_text=True)
    adm = client.get("/api/audit.csv", headers=bearer(app, "admin")).get_data(as_text=True)
    assert "192.0.2.44" not in sup and "192.0.*.*" in sup
    assert "192.0.2.44" in adm
    rows = list(csv.reader(io.StringIO(adm.lstrip("\ufeff"))))
    header = rows[0]
    # both exports are in the admin's export (its own is committed before streaming)
    exports = [r for r in rows[1:] if r[header.index("kind")] == "export"]
    assert [r[header.index("actor")] for r in exports] == ["admin", "supervisor"]
    assert [(r.actor_name, r.detail["what"], r.detail["masked"]) for r in export_rows(app)] == [
        ("supervisor", "audit_csv", True), ("admin", "audit_csv", False)]
