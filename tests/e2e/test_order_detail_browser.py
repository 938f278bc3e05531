"""A real Chromium opens an order: the story, the masked secret, an audited reveal, notes, tags."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from adapters.base import Buyer, CardKey, Order, OrderEvent, PaymentProof, Product
from tests.conftest import PASSWORDS, make_app
from tests.e2e.live import serving, with_users

pytestmark = pytest.mark.browser

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
ORDER_NO = "KDE2E0001"
SECRET = "QB7X-2KLM-99ZZ-A1B2"
SECOND_SECRET = "QB7X-3NOP-88YY-C3D4"


def story_order() -> Order:
    """A card-key order that was paid, failed once at the supplier, retried, and still waits."""
    def at(minutes: float) -> datetime:
        return T0 + timedelta(minutes=minutes)
    return Order(
        order_no=ORDER_NO, status="processing", created_at=at(0), paid_at=at(1),
        updated_at=at(6),
        product=Product(sku="QB-100", name="腾讯Q币100元卡密", category="game_card"),
        quantity=2, amount_paid=Decimal("197.00"),
        face_value=Decimal("200.00"),
        discount=Decimal("3.00"),
        buyer=Buyer(account="lin88", phone="13812345678", email="lin88@example.com"),
        buyer_ip="198.51.100.23",
        payment=PaymentProof(channel="alipay", transaction_id="2026030122001100000001",
                             payer="林**", amount=Decimal("197.00"),
                             paid_at=at(1)),
        card_keys=(CardKey("S-0001", SECRET, "delivered", at(5)),
                   CardKey("S-0002", SECOND_SECRET, "voided", at(5))),
        events=(OrderEvent(at(0), "created", "order placed"),
                OrderEvent(at(1), "paid", "alipay payment confirmed"),
                OrderEvent(at(2), "supplier_called", "POST /api/v1/order"),
                OrderEvent(at(3), "supplier_answered", '{"code":500,"msg":"<b>busy</b>"}'),
                OrderEvent(at(4), "retry", "retry 2/3"),
                OrderEvent(at(6), "supplier_answered", '{"code":2001,"msg":"处理中"}')),
        remark="please deliver fast",
    )


@pytest.fixture
def live_server(tmp_path):
    app = with_users(make_app(tmp_path))
    with app.app_context():
        from console.store import get_store
        get_store().load([story_order()])
    with serving(app) as url:
        yield url, app


def sign_in(page, url: str) -> None:
    page.goto(f"{url}/orders/{ORDER_NO}")
    page.fill("input[name=name]", "agent")
    page.fill("input[name=password]", PASSWORDS["agent"])
    page.click("#signin")
    page.wait_for_selector("#order-detail")


def reveal_records(app) -> list:
    with app.app_context():
        from console.extensions import db
        from console.models import AuditRecord
        return db.session.execute(db.select(AuditRecord).where(
            AuditRecord.kind.in_(["reveal_key", "reveal_contact"]))
            .order_by(AuditRecord.id)).scalars().all()


def test_agent_reads_the_story_and_reveals_a_key(page, live_server):
    url, app = live_server
    sign_in(page, url)
    assert page.locator("#order-no").inner_text() == ORDER_NO
    assert page.locator("#status-pill").get_attribute("data-status") == "processing"

    steps = page.locator("#timeline li.step")
    kinds = [steps.nth(i).get_attribute("data-kind") for i in range(steps.count())]
    assert kinds == ["created", "paid", "supplier_called", "supplier_answered", "retry",
                     "supplier_answered", "delivered"]
    states = [steps.nth(i).get_attribute("data-state") for i in range(steps.count())]
    assert states == ["done", "done", "done", "done", "failed", "current", "pending"]
    current = page.locator("#timeline li[aria-current=step]")
    assert current.count() == 1 and current.get_attribute("data-kind") == "supplier_answered"
    assert "+2 min" in current.inner_text()
    assert page.locator("#stuck-banner").is_visible()
    # The supplier's raw answer is shown as text, never as markup.
    assert page.locator(".supplier-answer pre").first.inner_text() == \
        '{"code":500,"msg":"<b>busy</b>"}'

    row = page.locator("#card-keys tbody tr").first
    assert row.locator(".secret").inner_text() == "*" * (len(SECRET) - 4) + SECRET[-4:]
    assert SECRET not in page.content() and SECOND_SECRET not in page.content()
    assert reveal_records(app) == []

    row.locator("button.reveal").click()
    page.fill("#reveal-reason", "customer says the key is dead")
    page.click("#reveal-confirm")
    page.wait_for_function(
        "s => document.querySelector('#card-keys tbody tr .secret').textContent === s", arg=SECRET)
    assert SECOND_SECRET not in page.content()
    records = reveal_records(app)
    assert [(r.kind, r.actor_name, r.order_no, r.detail.get("serial")) for r in records] == \
        [("reveal_key", "agent", ORDER_NO, "S-0001")]
    assert records[0].at is not None
    assert SECRET not in str(records[0].detail)


def test_agent_reveals_contact_and_keeps_notes_and_tags(page, live_server):
    url, app = live_server
    sign_in(page, url)
    assert page.locator("#buyer-phone").inner_text() == "138****5678"
    page.click("#reveal-contact")
    page.fill("#reveal-reason", "customer asked for a call back")
    page.click("#reveal-confirm")
    page.wait_for_function(
        "() => document.querySelector('#buyer-phone').textContent === '13812345678'")
    assert page.locator("#buyer-email").inner_text() == "lin88@example.com"
    assert [r.kind for r in reveal_records(app)] == ["reveal_contact"]

    page.fill("#note-body", "Customer called twice; <i>supplier</i> says busy")
    page.click("#note-form button[type=submit]")
    page.wait_for_selector("#notes li.note")
    assert page.locator("#notes li.note .note-body").first.inner_text() == \
        "Customer called twice; <i>supplier</i> says busy"

    page.click("#tag-suggest button[data-tag='suspicious']")
    page.wait_for_selector("#agent-tags li[data-tag='suspicious']")
    page.fill("#tag-input", "Repeat  Buyer")
    page.keyboard.press("Enter")
    page.wait_for_selector("#agent-tags li[data-tag='repeat buyer']")
    page.click("#agent-tags li[data-tag='suspicious'] button.untag")
    page.wait_for_selector("#agent-tags li[data-tag='suspicious']", state="detached")

    page.reload()
    assert page.locator("#notes li.note").count() == 1
    tags = page.locator("#agent-tags li.chip")
    assert [tags.nth(i).get_attribute("data-tag") for i in range(tags.count())] == \
        ["repeat buyer"]


def test_the_same_buyer_page_shows_masked_contacts_and_reveals_by_post(page, live_server):
    url, app = live_server
    with app.app_context():
        from console.store import get_store
        get_store().load([story_order().replace(order_no="KDE2E0002",
                                                created_at=T0 + timedelta(days=1))])
    sign_in(page, url)
    page.click("#same-buyer")
    page.wait_for_selector("#same-buyer-orders")
    assert page.url.endswith(f"/orders/{ORDER_NO}/related/same_buyer")
    rows = page.locator("#same-buyer-orders tbody tr")
    assert [rows.nth(i).get_attribute("data-order") for i in range(rows.count())] == \
        ["KDE2E0002"]
    assert "13812345678" not in page.content() and "lin88@example.com" not in page.content()
    assert page.locator("#buyer-phone").inner_text() == "138****5678"
    assert reveal_records(app) == []

    page.click("#reveal-contact")
    page.fill("#reveal-reason", "same buyer, checking who to call")
    page.click("#reveal-confirm")
    page.wait_for_function(
        "() => document.querySelector('#buyer-phone').textContent === '13812345678'")
    assert rows.first.locator("td").last.inner_text() == "138****5678"
    [record] = reveal_records(app)
    assert (record.kind, record.actor_name, record.order_no, record.detail["reason"]) == \
        ("reveal_contact", "agent", ORDER_NO, "same buyer, checking who to call")
