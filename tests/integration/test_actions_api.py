"""Actions through the HTTP API on the real stack: replays, refusals, approvals, audit."""
from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal

import pytest

from adapters.base import CAP_REFUND
from adapters.sql.store import SqlOrderStore
from console import signals
from tests.order_factory import KEY_CARD, OTHER_CARD, load, make_order, stock


@pytest.fixture
def shop(store):
    load(store,
         make_order("A-PAID", status="paid"),
         make_order("A-DELIV", status="delivered", keys=1),
         make_order("A-BIG", status="delivered", keys=1, amount="500.00"),
         make_order("A-UNPAID", status="pending_payment", paid_ago=None),
         make_order("A-PROC", status="processing"))
    store.add_products([OTHER_CARD])
    return store


@pytest.fixture
def api(client, token_for):
    """POST/GET as a named user with a bearer token; a fresh Idempotency-Key unless given."""
    tokens: dict[str, str] = {}

    def call(method: str, path: str, user: str = "agent", body: dict | None = None,
             key: str | None = "new"):
        if user not in tokens:
            tokens[user] = token_for(user)
        headers = {"Authorization": f"Bearer {tokens[user]}"}
        if method == "POST" and key is not None:
            headers["Idempotency-Key"] = uuid.uuid4().hex if key == "new" else key
        return client.open(path, method=method, json=body, headers=headers)
    return call


@pytest.fixture
def heard():
    """Everything the action signals announced during the test."""
    got: list[tuple[str, dict]] = []
    receivers = {}
    for name in ("action_finished", "edit_request_decided", "keys_reissued", "order_changed"):
        def receiver(sender, _name=name, **kwargs):
            got.append((_name, kwargs))
        receivers[name] = receiver
        getattr(signals, name).connect(receiver)
    yield got
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


def audit_kinds(app, order_no: str | None = None) -> list[str]:
    with app.app_context():
        from console.extensions import db
        from console.models import AuditRecord
        query = db.select(AuditRecord.kind).order_by(AuditRecord.id)
        if order_no:
            query = query.where(AuditRecord.order_no == order_no)
        return list(db.session.execute(query).scalars())


def idempotency_count(app) -> int:
    with app.app_context():
        from console.actions.models import IdempotencyRecord
        from console.extensions import db
        return db.session.execute(db.select(db.func.count()).select_from(IdempotencyRecord))\
            .scalar_one()


# --- refund ----------------------------------------------------------------------------

def test_refund_is_done_audited_and_answered_with_the_order(app, shop, api, heard):
    got = api("POST", "/api/orders/A-DELIV/refund", body={"amount": "10.00", "reason": "late"})
    assert got.status_code == 200, got.json
    action = got.json["action"]
    assert (action["kind"], action["state"], action["amount"]) == ("refund", "done", "10.00")
    assert got.json["order"]["status"] == "partially_refunded"
    assert got.json["order"]["refunded_amount"] == "10.00"
    assert shop.get("A-DELIV").refunded_amount == Decimal("10.00")
    assert audit_kinds(app, "A-DELIV") == ["refund"]
    names = [name for name, _ in heard]
    assert "action_finished" in names and "order_changed" in names
    changed = next(kw for name, kw in heard if name == "order_changed")
    assert (changed["order_no"], changed["status"], changed["previous"]) == \
        ("A-DELIV", "partially_refunded", "delivered")


def test_action_posts_need_an_idempotency_key(app, shop, api):
    for path, body in (("/api/orders/A-DELIV/refund", {"amount": "1.00", "reason": "x"}),
                       ("/api/orders/A-DELIV/reissue", {"reason": "x"}),
                       ("/api/orders/A-PAID/cancel", {"reason": "x"}),
                       ("/api/edit-requests", {"order_no": "A-PAID"}),
                       ("/api/edit-requests/1/approve", {}),
                       ("/api/actions/1/approve", {})):
        got = api("POST", path, body=body, key=None)
        assert got.status_code == 400
        assert got.json["error"]["code"] == "idempotency_key_required"
    assert shop.get("A-DELIV").refunded_amount == Decimal("0.00")
    assert audit_kinds(app, "A-DELIV") == []


def test_a_replay_returns_the_first_answer_and_refunds_once(app, shop, api, heard):
    body = {"amount": "5.00", "reason": "double click"}
    first = api("POST", "/api/orders/A-DELIV/refund", body=body, key="k-replay")
    again = api("POST", "/api/orders/A-DELIV/refund", body=body, key="k-replay")
    assert first.status_code == again.status_code == 200
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert shop.get("A-DELIV").refunded_amount == Decimal("5.00")
    assert audit_kinds(app, "A-DELIV") == ["refund"]
    assert [name for name, _ in heard].count("action_finished") == 1


def test_the_same_key_with_another_body_is_a_409(app, shop, api):
    api("POST", "/api/orders/A-DELIV/refund", body={"amount": "5.00", "reason": "a"}, key="k-1")
    got = api("POST", "/api/orders/A-DELIV/refund", body={"amount": "6.00", "reason": "a"},
              key="k-1")
    assert got.status_code == 409
    assert got.json["error"]["code"] == "idempotency_conflict"
    assert shop.get("A-DELIV").refunded_amount == Decimal("5.00")


def test_stored_answers_expire_after_a_day_and_the_key_is_free_again(app, shop, api):
    from datetime import timedelta

    from console.actions.models import IdempotencyRecord
    from console.extensions import db
    body = {"amount": "5.00", "reason": "a"}
    api("POST", "/api/orders/A-DELIV/refund", body=body, key="k-old")
    with app.app_context():
        record = db.session.execute(db.select(IdempotencyRecord)).scalar_one()
        assert record.expires_at - record.created_at >= timedelta(hours=24)
        assert record.status_code == 200 and record.response["action"]["amount"] == "5.00"
        record.expires_at = record.created_at - timedelta(seconds=1)
        db.session.commit()
    got = api("POST", "/api/orders/A-DELIV/refund", body={"amount": "6.00", "reason": "a"},
              key="k-old")
    assert got.status_code == 200 and "Idempotent-Replayed" not in got.headers
    assert shop.get("A-DELIV").refunded_amount == Decimal("11.00")
    assert idempotency_count(app) == 1


def test_a_retry_after_the_console_lost_its_commit_does_not_refund_twice(app, shop, api):
    """The store refunded, then the console database failed to commit: the client's retry
    (same key, same body) must reach the store as a replay, not a second refund."""
    from flask_sqlalchemy.session import Session
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    from console.actions.models import IdempotencyRecord
    failures = [1]

    def lose_the_commit(session):
        holding = any(isinstance(o, IdempotencyRecord) for o in session.identity_map.values())
        if holding and failures:
            failures.pop()
            raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    event.listen(Session, "before_commit", lose_the_commit)
    try:
        body = {"amount": "20.00", "reason": "dead key"}
        lost = api("POST", "/api/orders/A-DELIV/refund", body=body, key="k-lost")
        assert lost.status_code == 503 and not failures
        assert lost.get_json()["error"]["code"] == "console_db_unavailable"
        assert shop.get("A-DELIV").refunded_amount == Decimal("20.00")  # the store did it
        retry = api("POST", "/api/orders/A-DELIV/refund", body=body, key="k-lost")
    finally:
        event.remove(Session, "before_commit", lose_the_commit)
    assert retry.status_code == 200, retry.json
    assert retry.json["action"]["result"]["refunded"] == "20.00"
    assert shop.get("A-DELIV").refunded_amount == Decimal("20.00")
    assert [e.kind for e in shop.get("A-DELIV").events].count("partially_refunded") == 1
    assert audit_kinds(app, "A-DELIV") == ["refund"]


def test_keys_belong_to_their_actor(app, shop, api):
    body = {"amount": "5.00", "reason": "a"}
    assert api("POST", "/api/orders/A-DELIV/refund", "agent", body, key="k-shared").json[
        "action"]["requester"] == "agent"
    got = api("POST", "/api/orders/A-DELIV/refund", "supervisor", body, key="k-shared")
    assert got.status_code == 200 and got.json["action"]["requester"] == "supervisor"
    assert shop.get("A-DELIV").refunded_amount == Decimal("10.00")


def test_over_refund_is_refused_and_stores_nothing(app, shop, api):
    got = api("POST", "/api/orders/A-DELIV/refund", body={"amount": "98.51", "reason": "x"},
              key="k-over")
    assert got.status_code == 409 and got.json["error"]["code"] == "over_refund"
    assert "98.50" in got.json["error"]["message"]
    assert shop.get("A-DELIV").refunded_amount == Decimal("0.00")
    assert audit_kinds(app, "A-DELIV") == [] and idempotency_count(app) == 0
    # nothing was stored under the key: it now serves a valid request
    ok = api("POST", "/api/orders/A-DELIV/refund", body={"amount": "98.50", "reason": "x"},
             key="k-over")
    assert ok.status_code == 200 and ok.json["order"]["status"] == "refunded"


def test_refund_of_an_unpaid_order_is_not_paid(app, shop, api):
    before = shop.get("A-UNPAID")
    got = api("POST", "/api/orders/A-UNPAID/refund", body={"amount": "1.00", "reason": "x"})
    assert got.status_code == 409 and got.json["error"]["code"] == "not_paid"
    assert shop.get("A-UNPAID") == before and audit_kinds(app, "A-UNPAID") == []


@pytest.mark.parametrize("body, code", [
    ({"amount": "-1", "reason": "x"}, "invalid_amount"),
    ({"amount": "1.001", "reason": "x"}, "invalid_amount"),
    ({"amount": 1.5, "reason": "x"}, "invalid_amount"),
    ({"amount": "abc", "reason": "x"}, "invalid_amount"),
    ({"amount": "1.00"}, "reason_required"),
    ({"amount": "1.00", "reason": "   "}, "reason_required"),
])
def test_invalid_refunds_are_400_and_store_nothing(app, shop, api, body, code):
    got = api("POST", "/api/orders/A-DELIV/refund", body=body)
    assert got.status_code == 400 and got.json["error"]["code"] == code
    assert idempotency_count(app) == 0 and "refund" not in audit_kinds(app)


def test_unknown_order_is_404(app, shop, api):
    got = api("POST", "/api/orders/NOPE/refund", body={"amount": "1.00", "reason": "x"})
    assert got.status_code == 404 and got.json["error"]["code"] == "order_not_found"


# --- approvals ---------------------------------------------------------------------------

def test_large_refund_waits_and_only_another_supervisor_may_approve(app, shop, api, heard):
    asked = api("POST", "/api/orders/A-BIG/refund", "supervisor",
                {"amount": "300.00", "reason": "dead key"})
    assert asked.status_code == 202
    action = asked.json["action"]
    assert action["state"] == "pending_approval"
    assert shop.get("A-BIG").refunded_amount == Decimal("0.00")
    path = f"/api/actions/{action['id']}/approve"

    by_agent = api("POST", path, "agent")
    assert by_agent.status_code == 403 and by_agent.json["error"]["code"] == "forbidden"
    by_self = api("POST", path, "supervisor")
    assert by_self.status_code == 403 and by_self.json["error"]["code"] == "self_approval"
    assert shop.get("A-BIG").refunded_amount == Decimal("0.00")
    assert audit_kinds(app, "A-BIG") == ["refund_requested"]

    approved = api("POST", path, "admin", key="k-approve")
    assert approved.status_code == 200, approved.json
    assert approved.json["action"]["state"] == "done"
    assert approved.json["action"]["approver"] == "admin"
    assert shop.get("A-BIG").refunded_amount == Decimal("300.00")
    assert audit_kinds(app, "A-BIG") == ["refund_requested", "refund_approved"]
    assert api("POST", path, "admin", key="k-approve").json == approved.json
    again = api("POST", path, "admin")
    assert again.status_code == 409 and again.json["error"]["code"] == "already_decided"
    assert shop.get("A-BIG").refunded_amount == Decimal("300.00")


def test_pending_refunds_count_against_what_is_left(app, shop, api):
    api("POST", "/api/orders/A-BIG/refund", "agent", {"amount": "400.00", "reason": "x"})
    got = api("POST", "/api/orders/A-BIG/refund", "agent", {"amount": "150.00", "reason": "y"})
    assert got.status_code == 409 and got.json["error"]["code"] == "over_refund"


def test_an_agents_daily_total_sends_refunds_to_approval(app, shop, api):
    app.config["REFUND_DAILY_LIMIT"] = Decimal("100.00")
    first = api("POST", "/api/orders/A-BIG/refund", body={"amount": "80.00", "reason": "a"})
    second = api("POST", "/api/orders/A-BIG/refund", body={"amount": "30.00", "reason": "b"})
    assert first.json["action"]["state"] == "done"
    assert second.status_code == 202 and second.json["action"]["state"] == "pending_approval"
    assert shop.get("A-BIG").refunded_amount == Decimal("80.00")


def test_a_supervisor_rejects_a_pending_refund(app, shop, api):
    asked = api("POST", "/api/orders/A-BIG/refund", body={"amount": "250.00", "reason": "x"})
    path = f"/api/actions/{asked.json['action']['id']}/reject"
    got = api("POST", path, "supervisor", {"note": "customer already used the key"})
    assert got.status_code == 200
    assert got.json["action"]["state"] == "rejected"
    assert got.json["action"]["decision_note"] == "customer already used the key"
    assert shop.get("A-BIG").refunded_amount == Decimal("0.00")
    assert api("POST", f"/api/actions/{asked.json['action']['id']}/approve", "admin").json[
        "error"]["code"] == "already_decided"


def test_approval_that_the_store_refuses_fails_with_the_reason(app, shop, api):
    asked = api("POST", "/api/orders/A-BIG/refund", body={"amount": "450.00", "reason": "x"})
    shop.refund("A-BIG", Decimal("100.00"), "meanwhile in the shop", "outside-key")
    got = api("POST", f"/api/actions/{asked.json['action']['id']}/approve", "supervisor")
    assert got.status_code == 409 and got.json["error"]["code"] == "over_refund"
    assert got.json["action"]["state"] == "failed"
    assert shop.get("A-BIG").refunded_amount == Decimal("100.00")


# --- reissue -----------------------------------------------------------------------------

def test_reissue_shows_the_new_key_once_and_tells_the_chat(app, shop, api, heard):
    shelf = stock(shop, KEY_CARD, 2)
    got = api("POST", "/api/orders/A-DELIV/reissue", body={"reason": "dead key"})
    assert got.status_code == 200, got.json
    assert got.json["action"]["new_keys"] == [{"serial": shelf[0],
                                               "secret": shelf[0] + "-SECRET"}]
    shown = {k["serial"]: k for k in got.json["order"]["card_keys"]}
    assert shown["A-DELIV-S0"]["status"] == "voided"
    assert shown[shelf[0]]["secret"] != shelf[0] + "-SECRET"  # masked in the order itself
    told = next(kw for name, kw in heard if name == "keys_reissued")
    assert told["serials"] == [shelf[0]] and told["secrets"] == [shelf[0] + "-SECRET"]
    assert audit_kinds(app, "A-DELIV") == ["reissue"]
    detail = api("GET", "/api/audit?order_no=A-DELIV", "supervisor").json["results"][0]
    assert "SECRET" not in str(detail)


def test_reissue_with_empty_inventory_is_out_of_stock_and_changes_nothing(app, shop, api):
    before = shop.get("A-DELIV")
    got = api("POST", "/api/orders/A-DELIV/reissue", body={"reason": "dead key"})
    assert got.status_code == 409 and got.json["error"]["code"] == "out_of_stock"
    assert shop.get("A-DELIV") == before
    assert audit_kinds(app, "A-DELIV") == [] and idempotency_count(app) == 0


# --- cancel ------------------------------------------------------------------------------

def test_agent_cancels_before_delivery_and_the_payment_goes_back(app, shop, api):
    got = api("POST", "/api/orders/A-PROC/cancel", body={"reason": "wrong product"})
    assert got.status_code == 200, got.json
    assert got.json["order"]["status"] == "cancelled"
    assert got.json["action"]["result"]["refunded"] == "98.50"
    refused = api("POST", "/api/orders/A-DELIV/cancel", body={"reason": "too late"})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "not_allowed"
    assert refused.json["error"]["offers"] == ["reissue", "refund"]


def test_customer_cancel_inside_the_window_refunds_automatically(app, shop):
    from datetime import timedelta

    from console.actions import service
    load(shop, make_order("C-NEW", status="paid", paid_ago=timedelta(minutes=2)),
         make_order("C-OLD", status="paid", paid_ago=timedelta(minutes=9)))
    with app.test_request_context():
        answer = service.customer_cancel(shop, order_no="C-NEW", reason="",
                                         idempotency_key="w-1")
        assert answer["action"]["state"] == "done"
        assert answer["order"]["status"] == "cancelled"
        assert service.customer_cancel(shop, order_no="C-NEW", reason="",
                                       idempotency_key="w-1") == answer
        with pytest.raises(service.ActionError) as caught:
            service.customer_cancel(shop, order_no="C-OLD", reason="", idempotency_key="w-2")
        assert caught.value.code == "cancel_window_closed"
    assert shop.get("C-NEW").refunded_amount == Decimal("98.50")
    assert shop.get("C-OLD").status == "paid"
    assert audit_kinds(app, "C-NEW") == ["customer_cancel"]


# --- edit requests ----------------------------------------------------------------------

def test_edit_request_is_approved_and_applied(app, shop, api, heard):
    made = api("POST", "/api/edit-requests", body={
        "order_no": "A-PAID", "changes": {"recipient_account": "right-99"},
        "reason": "typo in the QQ number"})
    assert made.status_code == 201, made.json
    request_id = made.json["request"]["id"]
    listed = api("GET", "/api/edit-requests?state=pending").json["results"]
    assert [r["id"] for r in listed] == [request_id]
    got = api("POST", f"/api/edit-requests/{request_id}/approve")
    assert got.status_code == 200, got.json
    assert got.json["request"]["state"] == "applied"
    assert got.json["action"]["kind"] == "edit" and got.json["action"]["state"] == "done"
    assert shop.get("A-PAID").recipient_account == "right-99"
    assert audit_kinds(app, "A-PAID") == ["edit_requested", "edit_applied"]
    decided = next(kw for name, kw in heard if name == "edit_request_decided")
    assert decided["request"]["state"] == "applied"


def test_approving_an_edit_after_delivery_is_refused_with_offers(app, shop, api, heard):
    made = api("POST", "/api/edit-requests", body={
        "order_no": "A-PAID", "changes": {"recipient_account": "other"}, "reason": "x"})
    stock(shop, KEY_CARD, 1)
    shop.reissue("A-PAID", "delivered by the shop meanwhile", "deliver-1")
    before = shop.get("A-PAID")
    got = api("POST", f"/api/edit-requests/{made.json['request']['id']}/approve", key="k-late")
    assert got.status_code == 409
    assert got.json["error"]["code"] == "not_allowed"
    assert got.json["error"]["offers"] == ["reissue", "refund"]
    assert "delivered" in got.json["error"]["message"]
    assert got.json["request"]["state"] == "refused"
    assert shop.get("A-PAID") == before
    assert audit_kinds(app, "A-PAID") == ["edit_requested", "edit_refused"]
    assert next(kw for n, kw in heard if n == "edit_request_decided")["request"]["state"] == \
        "refused"
    replay = api("POST", f"/api/edit-requests/{made.json['request']['id']}/approve",
                 key="k-late")
    assert replay.status_code == 409 and replay.json == got.json


def test_edit_requests_on_delivered_orders_are_refused_at_once(app, shop, api):
    got = api("POST", "/api/edit-requests", body={
        "order_no": "A-DELIV", "changes": {"recipient_account": "x"}, "reason": "x"})
    assert got.status_code == 409 and got.json["error"]["offers"] == ["reissue", "refund"]
    assert audit_kinds(app, "A-DELIV") == []


def test_rejecting_an_edit_needs_a_note(app, shop, api):
    made = api("POST", "/api/edit-requests", body={
        "order_no": "A-PAID", "changes": {"remark": "gift"}, "reason": "x"}).json["request"]
    path = f"/api/edit-requests/{made['id']}/reject"
    missing = api("POST", path, body={})
    assert missing.status_code == 400 and missing.json["error"]["code"] == "note_required"
    got = api("POST", path, body={"note": "the product is not sold any more"})
    assert got.status_code == 200
    assert got.json["request"]["state"] == "rejected" and got.json["action"]["state"] == \
        "rejected"
    assert shop.get("A-PAID").remark is None


@pytest.mark.parametrize("changes", [{}, {"amount_paid": "0.01"}, {"quantity": 0},
                                     {"recipient_account": ""}, "text"])
def test_malformed_edit_requests_are_400(app, shop, api, changes):
    got = api("POST", "/api/edit-requests", body={"order_no": "A-PAID", "changes": changes,
                                                  "reason": "x"})
    assert got.status_code == 400 and got.json["error"]["code"] == "invalid_changes"


# --- a store that cannot refund ---------------------------------------------------------

class NoRefundStore(SqlOrderStore):
    """The reference store with the refund capability taken away (dujiaoka has none)."""

    capabilities = SqlOrderStore.capabilities - {CAP_REFUND}


def test_without_a_refund_capability_refunds_are_recorded_as_manual(tmp_path, token_for):
    from console import create_app
    from console.people import save_user
    store = NoRefundStore(f"sqlite:///{tmp_path / 'shop.db'}")
    load(store, make_order("M-1", status="delivered", keys=1))
    app = create_app({"INSTANCE": str(tmp_path / "i"), "TESTING": True,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
                      "SECRET_KEY": "s", "RATELIMIT_ENABLED": False}, store=store)
    with app.app_context():
        save_user("agent", "agent", "agent-pass-1")
        from console.people import issue_token
        token = issue_token("agent")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "m1"}
    missing = client.post("/api/orders/M-1/refund", json={"amount": "10.00", "reason": "x"},
                          headers=headers)
    assert missing.json["error"]["code"] == "manual_reference_required"
    got = client.post("/api/orders/M-1/refund", headers=headers, json={
        "amount": "10.00", "reason": "x", "reference": "alipay 2026112500001"})
    assert got.status_code == 200, got.json
    assert got.json["action"]["manual_reference"] == "alipay 2026112500001"
    assert got.json["action"]["result"]["manual"] is True
    assert "manual" in got.json["message"]
    assert store.get("M-1").refunded_amount == Decimal("0.00")
    over = client.post("/api/orders/M-1/refund", headers={**headers, "Idempotency-Key": "m2"},
                       json={"amount": "88.51", "reason": "x", "reference": "r"})
    assert over.json["error"]["code"] == "over_refund"
    store.close()


# --- the audit trail ----------------------------------------------------------------------

def test_audit_is_for_supervisors_newest_first_filtered_and_paginated(app, shop, api):
    for i in range(3):
        api("POST", "/api/orders/A-DELIV/refund", body={"amount": "1.00", "reason": f"r{i}"})
    api("POST", "/api/orders/A-PROC/cancel", "supervisor", {"reason": "asked"})
    assert api("GET", "/api/audit").status_code == 403
    everything = api("GET", "/api/audit", "supervisor").json
    kinds = [r["kind"] for r in everything["results"] if r["kind"] != "token_created"]
    assert kinds[:4] == ["cancel", "refund", "refund", "refund"]
    ids = [r["id"] for r in everything["results"]]
    assert ids == sorted(ids, reverse=True)
    refunds = api("GET", "/api/audit?kind=refund&actor=agent&order_no=A-DELIV",
                  "supervisor").json
    assert refunds["total"] == 3
    assert [r["detail"]["reason"] for r in refunds["results"]] == ["r2", "r1", "r0"]
    page2 = api("GET", "/api/audit?kind=refund&per_page=2&page=2", "supervisor").json
    assert [r["detail"]["reason"] for r in page2["results"]] == ["r0"]
    assert api("GET", "/api/audit?from=2000-01-01&to=2000-01-02", "supervisor").json[
        "total"] == 0
    assert api("GET", "/api/audit?from=yesterday", "supervisor").status_code == 400


def test_audit_csv_exports_the_filtered_trail_safely(app, shop, api):
    api("POST", "/api/orders/A-DELIV/refund", body={"amount": "1.00", "reason": "=HYPERLINK()"})
    api("POST", "/api/orders/A-PROC/cancel", body={"reason": "asked"})
    got = api("GET", "/api/audit.csv?kind=refund", "supervisor")
    assert got.status_code == 200 and got.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(got.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:7] == ["id", "at", "actor", "kind", "order_no", "ip", "detail"]
    assert rows[0][7:] == ["role", "object", "request_id", "before", "after"]
    assert [r[3] for r in rows[1:]] == ["refund"]
    assert '"reason": "=HYPERLINK()"' in rows[1][6]
    assert api("GET", "/api/audit.csv", "agent").status_code == 403


# --- pages -----------------------------------------------------------------------------

def test_queue_approvals_and_audit_pages(app, shop, api, client, auth):
    api("POST", "/api/edit-requests", body={"order_no": "A-PAID",
                                            "changes": {"remark": "gift"}, "reason": "asked"})
    api("POST", "/api/orders/A-BIG/refund", body={"amount": "300.00", "reason": "dead"})
    auth.login("agent")
    queue = client.get("/edit-requests")
    assert queue.status_code == 200 and "A-PAID" in queue.get_data(as_text=True)
    assert client.get("/approvals").status_code == 403
    assert client.get("/audit").status_code == 403
    auth.logout()
    auth.login("supervisor")
    page = client.get("/approvals").get_data(as_text=True)
    assert "A-BIG" in page and "300.00" in page and 'data-kind="approve-action"' in page
    audit_page = client.get("/audit?kind=refund_requested").get_data(as_text=True)
    assert "A-BIG" in audit_page and "/api/audit.csv?kind=refund_requested" in audit_page


def test_order_panel_context_offers_what_the_order_allows(app, shop):
    from console.actions.views import actions_panel
    with app.test_request_context():
        paid = actions_panel(shop.get("A-PAID"))
        delivered = actions_panel(shop.get("A-DELIV"))
    assert paid["available"]["edit"] and paid["available"]["cancel"]
    assert not delivered["available"]["edit"] and not delivered["available"]["cancel"]
    assert delivered["available"]["reissue"] and delivered["refund_left"] == Decimal("98.50")

