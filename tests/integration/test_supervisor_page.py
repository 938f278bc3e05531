"""The supervisor page and its API: roles, the live queue, CSV exports, shop analytics."""
from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta
from urllib.parse import urlencode

from console.chat import service
from console.chat.service import AgentRef
from console.extensions import db
from console.models import AuditRecord
from console.people import find_user
from tests.conftest import FIXED_NOW, sample_orders
from tests.integration.test_chat_widget import post_json


def _csv(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_page_is_for_supervisors_and_admins(client, auth):
    assert client.get("/supervisor").status_code in (302, 401)
    auth.login("agent")
    assert client.get("/supervisor").status_code == 403
    assert client.get("/alerts").status_code == 200
    assert client.get("/api/supervisor/live").status_code == 403
    auth.logout()
    for name in ("supervisor", "admin"):
        auth.login(name)
        html = client.get("/supervisor").get_data(as_text=True)
        assert 'id="live-panel"' in html and "chart.umd.min.js" in html
        assert "How these figures are measured" in html and "<script>" not in html
        auth.logout()


def test_live_queue_counts_waiting_chats_and_agent_load(app, client, auth):
    with app.app_context():
        agent = AgentRef.of(find_user("agent"))
        waiting = [service.start_conversation(db.session, None, "en").id for _ in range(3)]
        for cid in waiting:
            service.post_message(db.session, cid, sender_kind="customer", body="hello",
                                 client_id="c1")
        service.take(db.session, waiting[0], agent)     # owned but still unanswered
        service.post_message(db.session, waiting[1], sender_kind="agent", body="hi",
                             client_id="a1", agent=agent)  # answered: not waiting
        service.agent_connected(db.session, agent.id)
    auth.login("supervisor")
    live = client.get("/api/supervisor/live").json
    assert live["waiting"] == 2 and live["unassigned"] == 1
    assert 0 <= live["longest_wait_s"] < 600 and live["waiting_since"]
    row = next(a for a in live["agents"] if a["name"] == "agent")
    assert row["presence"] == "online" and row["active"] == 2
    assert live["agents_online"] == 1 and live["load"]["active"] == 2


def test_every_table_exports_as_csv(app, client, auth):
    with app.app_context():
        agent = AgentRef.of(find_user("agent"))
        cid = service.start_conversation(db.session, None, "en").id
        service.post_message(db.session, cid, sender_kind="customer", body="?", client_id="1")
        service.post_message(db.session, cid, sender_kind="agent", body="!", client_id="2",
                             agent=agent)
    auth.login("supervisor")
    agents = _csv(client.get("/api/supervisor/export/agents.csv"))
    assert [r["agent"] for r in agents] == ["agent"]
    assert agents[0]["conversations"] == "1" and agents[0]["first_response_count"] == "1"
    hours = _csv(client.get("/api/supervisor/export/hours.csv"))
    assert len(hours) == 24 and sum(int(r["conversations"]) for r in hours) == 1
    overall = {r["measure"]: r for r in _csv(client.get("/api/supervisor/export/overall.csv"))}
    assert overall["first_response"]["count"] == "1" and set(overall) == {
        "first_response", "assignment", "resolution", "handle"}
    assert [r["name"] for r in _csv(client.get("/api/supervisor/export/live.csv"))] == \
        ["admin", "agent", "supervisor"]
    for table in ("days", "breaches", "stuck", "incidents", "products", "suppliers",
                  "order-hours", "tickets"):
        response = client.get(f"/api/supervisor/export/{table}.csv")
        assert response.status_code == 200, table
        assert response.get_data(as_text=True).startswith("\ufeff")
    assert client.get("/api/supervisor/export/secrets.csv").status_code == 404
    with app.app_context():
        exports = db.session.execute(db.select(AuditRecord).where(AuditRecord.kind == "export")
                                     ).scalars().all()
    assert Counter(e.detail["what"] for e in exports)["supervisor_agents"] == 1
    assert {e.actor_name for e in exports} == {"supervisor"} and len(exports) == 12


def test_shop_analytics_rates_by_product_and_supplier(app, client, auth, store):
    orders = sample_orders(400)
    store.load(orders)
    start, end = FIXED_NOW - timedelta(days=120), FIXED_NOW
    paid = [o for o in orders if o.paid_at and start <= o.created_at < end]
    after = Counter(o.supplier or "-" for o in paid
                    if any(e.kind == "after_sales" for e in o.events))
    totals = Counter(o.supplier or "-" for o in paid)
    refunded = Counter(o.product.name for o in paid
                       if o.refunded_amount > 0 or o.status in ("refunded", "partially_refunded"))
    ticket_order = paid[0]
    auth.login("agent")
    opened = post_json(client, f"/api/orders/{ticket_order.order_no}/conversation")
    assert opened.status_code in (200, 201)
    auth.logout()
    auth.login("supervisor")
    answer = client.get("/api/supervisor/analytics?" + urlencode(
        {"from": start.isoformat(), "to": end.isoformat()})).json
    assert answer["available"] is True
    suppliers = {r["key"]: r for r in answer["suppliers"]}
    assert {k: r["orders"] for k, r in suppliers.items()} == dict(totals)
    assert {k: r["after_sales"] for k, r in suppliers.items() if r["after_sales"]} == dict(after)
    products = {r["key"]: r for r in answer["products"]}
    assert {k: r["refunded"] for k, r in products.items() if r["refunded"]} == dict(refunded)
    some = next(r for r in answer["products"] if r["refunded"])
    assert some["refund_rate"] == round(some["refunded"] / some["orders"], 4)
    assert sum(r["orders"] for r in answer["hours"]) == len(paid) and len(answer["hours"]) <= 24
    assert answer["tickets"] == []  # the chat was opened today, after the range
    today = client.get("/api/supervisor/analytics").json  # the last seven days
    assert today["tickets"] == [{"key": ticket_order.product.name, "tickets": 1}]
