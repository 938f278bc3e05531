"""The order watcher on a real reference store and console DB: the demo scenario's stuck
orders and outage, the alerts and incidents APIs, notices into customers' chats, audit."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from adapters.demo_data import OUTAGE_SUPPLIER, watch_scenario
from console.chat import service
from console.chat.models import Message
from console.extensions import db
from console.models import AuditRecord
from console.watching.models import Incident, StuckAlert
from console.watching.watcher import build_watcher
from tests.conftest import FIXED_NOW, make_app, sample_orders
from tests.integration.test_chat_widget import post_json


@pytest.fixture
def scenario():
    return list(watch_scenario(seed=5, now=FIXED_NOW))


@pytest.fixture
def watched(app, store, scenario):
    """The store holds ordinary orders and the scenario; one watcher pass at FIXED_NOW."""
    store.load(sample_orders(200) + scenario)
    events = []
    watcher = build_watcher(app, emit=lambda event, data: events.append((event, data)))
    with app.app_context():
        report = watcher.tick(db.session, now=FIXED_NOW)
    return watcher, report, events


def test_stuck_orders_and_the_outage_are_found(app, watched, scenario):
    watcher, report, events = watched
    stuck = {o.order_no for o in scenario if o.status in ("paid", "processing")}
    # every scenario order waiting longer than its threshold is flagged (the youngest
    # outage top-ups entered processing under 15 minutes ago and are not stuck yet)
    young = {o.order_no for o in scenario if o.status == "processing"
             and o.product.category == "phone_topup"
             and FIXED_NOW - o.updated_at < timedelta(minutes=15)}
    assert young and stuck - young <= set(report.flagged)
    assert not young & set(report.flagged)
    assert len(report.opened) == 1
    with app.app_context():
        incident = db.session.get(Incident, report.opened[0])
        assert (incident.dimension, incident.value, incident.state) == \
            ("supplier", OUTAGE_SUPPLIER, "open")
        assert incident.bad_orders >= 5 and incident.share > 0.3 > incident.baseline
        audit = db.session.execute(select(AuditRecord).where(
            AuditRecord.kind == "incident_opened")).scalar_one()
        assert audit.detail["incident_id"] == incident.id
    assert [e for e, _ in events] == ["stuck_orders", "incident"]
    # a second pass finds nothing new and opens no second incident
    with app.app_context():
        again = watcher.tick(db.session, now=FIXED_NOW + timedelta(seconds=5))
    assert again.flagged == [] and again.opened == []


def test_alerts_api_for_agents_offers_the_customers_chat(app, client, auth, watched, store,
                                                         scenario):
    watcher, report, _ = watched
    assert client.get("/api/alerts/stuck-orders").status_code == 401
    auth.login("agent")
    order_no = report.flagged[0]
    opened = post_json(client, f"/api/orders/{order_no}/conversation")
    assert opened.status_code in (200, 201), opened.json
    answer = client.get("/api/alerts/stuck-orders").json
    assert {a["order_no"] for a in answer["alerts"]} == set(report.flagged)
    first = next(a for a in answer["alerts"] if a["order_no"] == order_no)
    assert set(first) >= {"order_no", "status", "since", "threshold_s", "category",
                          "supplier", "stuck_for_s", "conversation_id"}
    assert first["conversation_id"] == opened.json["conversation"]["id"]
    assert client.get("/api/incidents").status_code == 403
    # the order is delivered at last: the next pass clears its alert
    order = store.get(order_no)
    store.load([replace(order, status="delivered",
                        updated_at=FIXED_NOW + timedelta(minutes=1))])
    with app.app_context():
        later = watcher.tick(db.session, now=FIXED_NOW + timedelta(minutes=1, seconds=5))
    assert later.cleared == [order_no]
    left = {a["order_no"] for a in client.get("/api/alerts/stuck-orders").json["alerts"]}
    assert order_no not in left


def test_supervisor_notifies_affected_chats_once_and_closes(app, client, auth, watched):
    _, report, _ = watched
    incident_id = report.opened[0]
    auth.login("supervisor")
    detail = client.get(f"/api/incidents/{incident_id}").json
    affected = [o["order_no"] for o in detail["orders"]]
    assert len(affected) == detail["incident"]["affected_orders"] >= 5
    for order_no in affected[:2]:  # two customers have a chat about their order
        assert post_json(client, f"/api/orders/{order_no}/conversation").status_code in (200, 201)
    bad = post_json(client, f"/api/incidents/{incident_id}/notify", {"message": "  "})
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_message"
    text = f"Top-ups through {OUTAGE_SUPPLIER} are delayed; expected back by 14:00."
    sent = post_json(client, f"/api/incidents/{incident_id}/notify", {"message": text})
    assert sent.status_code == 200 and sent.json["sent"]["chats"] == 2
    again = post_json(client, f"/api/incidents/{incident_id}/notify", {"message": text})
    assert again.json["sent"]["chats"] == 2
    with app.app_context():
        notices = db.session.execute(select(Message).where(Message.body == text)).scalars().all()
        assert len(notices) == 2 and {m.sender_kind for m in notices} == {"system"}
        assert {m.order_no for m in notices} == set(affected[:2])
    listed = client.get("/api/incidents?state=open").json["incidents"]
    assert [i["id"] for i in listed] == [incident_id] and listed[0]["notice"] == text
    closed = post_json(client, f"/api/incidents/{incident_id}/close")
    assert closed.json["incident"]["state"] == "closed"
    assert post_json(client, f"/api/incidents/{incident_id}/close").status_code == 200
    late = post_json(client, f"/api/incidents/{incident_id}/notify", {"message": text})
    assert late.status_code == 409 and late.json["error"]["code"] == "incident_closed"
    assert post_json(client, "/api/incidents/999/close").status_code == 404
    with app.app_context():
        kinds = [r.kind for r in db.session.execute(select(AuditRecord).order_by(
            AuditRecord.id)).scalars() if r.kind.startswith("incident")]
    assert kinds == ["incident_opened", "incident_notified", "incident_notified",
                     "incident_closed"]
    assert client.get("/api/incidents?state=closed").json["incidents"][0]["closed_by"] == \
        "supervisor"


def test_a_watcher_restarted_keeps_its_alerts_and_does_not_double_them(app, store, watched):
    _, report, _ = watched
    fresh = build_watcher(app)
    with app.app_context():
        again = fresh.tick(db.session, now=FIXED_NOW + timedelta(seconds=30))
        incidents = db.session.execute(select(Incident)).scalars().all()
        alerts = db.session.execute(select(StuckAlert.order_no)).scalars().all()
    # only orders that crossed their threshold in those 30 s are new; none twice
    assert not set(again.flagged) & set(report.flagged) and len(incidents) == 1
    assert sorted(alerts) == sorted(report.flagged + again.flagged)


def test_watch_on_a_postgresql_console_db(tmp_path, pg_console_url, scenario):
    app = make_app(tmp_path, DATABASE_URL=pg_console_url)
    with app.app_context():
        from console.store import get_store
        get_store().load(scenario)
    watcher = build_watcher(app)
    with app.app_context():
        report = watcher.tick(db.session, now=FIXED_NOW)
        assert len(report.opened) == 1 and report.flagged
        assert service  # the chat service shares this DB
        db.session.remove()
        db.engine.dispose()


def test_a_notice_reaches_the_buyers_other_chats_once_and_counts_who_has_none(
        app, client, auth, watched, store):
    """Chats about another order of an affected buyer, and chats signed in as the buyer,
    get the notice too, each once; buyers with no chat at all are counted."""
    from console.chat.identity import CustomerIdentity
    _, report, _ = watched
    incident_id = report.opened[0]
    auth.login("supervisor")
    affected = [o["order_no"] for o in client.get(f"/api/incidents/{incident_id}").json["orders"]]
    buyers = {store.get(o).buyer for o in affected}
    first, second = store.get(affected[0]), store.get(affected[1])
    assert first.buyer != second.buyer
    # the first buyer asked about an older order of theirs
    older = replace(first, order_no=first.order_no + "-OLD", status="completed",
                    supplier="elsewhere")
    store.load([older])
    opened = post_json(client, f"/api/orders/{older.order_no}/conversation")
    assert opened.status_code in (200, 201), opened.json
    about_older = opened.json["conversation"]["id"]
    # the second buyer is signed in on the shop's site (no order linked yet)
    with app.app_context():
        signed = service.start_conversation(
            db.session, CustomerIdentity(user_id=second.buyer.account, email=None,
                                         phone=second.buyer.phone), "zh_CN").id
        db.session.commit()
    text = "Top-ups are delayed; expected back by 14:00."
    sent = post_json(client, f"/api/incidents/{incident_id}/notify", {"message": text}).json
    assert sent["sent"]["chats"] == 2
    assert sent["sent"]["customers"] == len(buyers)
    assert sent["sent"]["customers_without_chat"] == len(buyers) - 2
    assert sent["incident"]["customers_without_chat"] == len(buyers) - 2
    with app.app_context():
        notices = {m.conversation_id: m.order_no for m in db.session.execute(
            select(Message).where(Message.body == text)).scalars()}
    # each chat once, about the buyer's affected order
    assert notices == {about_older: first.order_no, signed: second.order_no}
