"""A new user points Kamidesk at a dujiaoka database and works orders through the real app.

``KAMIDESK_STORE=dujiaoka`` and ``KAMIDESK_STORE_URL`` in the environment (nothing else
about the store), dujiaoka's tables on a real MariaDB with only its own indexes: agents
search, open and reissue orders; refunds are recorded as manual; customers verify an
order in the widget with dujiaoka's query password.
"""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from adapters.base import Buyer
from tests.conftest import AuthActions
from tests.dujiaoka.shop import DujiaokaShop, fresh_dujiaoka_database
from tests.order_factory import KEY_CARD, make_order

pytestmark = pytest.mark.mariadb

ORDER = make_order("DJ20261202A1", status="delivered", keys=1).replace(
    buyer=Buyer(email="xiaoming@example.com"), search_password="cha-xun-88")


@pytest.fixture
def shop(mariadb_url):
    with fresh_dujiaoka_database(mariadb_url) as url:
        shop = DujiaokaShop(url)
        shop.url = url
        others = [make_order(f"DJ2026120{i}B", status="delivered", keys=1) for i in range(5)]
        shop.add_orders([*others, ORDER])
        shop.add_carmis(KEY_CARD, ["FRESH-0001----FRESH-SECRET-1"])
        yield shop
        shop.close()


@pytest.fixture
def app(tmp_path, shop, monkeypatch):
    monkeypatch.setenv("KAMIDESK_STORE", "dujiaoka")
    monkeypatch.setenv("KAMIDESK_STORE_URL", shop.url)
    from console import create_app
    app = create_app({"INSTANCE": str(tmp_path / "instance"), "TESTING": True,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}",
                      "SECRET_KEY": "s", "RATELIMIT_ENABLED": False})
    with app.app_context():
        from console.people import issue_token, save_user
        save_user("agent", "agent", "agent-pass-1")
        app.token = issue_token("agent", "test")
    yield app
    from console.store import get_store
    with app.app_context():
        get_store().close()


def call(client, app, method: str, path: str, body=None, key: str | None = None):
    headers = {"Authorization": f"Bearer {app.token}"}
    if key:
        headers["Idempotency-Key"] = key
    return client.open(path, method=method, json=body, headers=headers)


def test_search_open_and_reissue_a_dujiaoka_order(app, shop):
    client = app.test_client()
    for q in (ORDER.order_no, "xiaoming@example.com", "xiaoming"):
        found = call(client, app, "GET", f"/api/orders/search?q={q}")
        assert found.status_code == 200, found.json
        assert found.json["results"][0]["order_no"] == ORDER.order_no, q
    detail = call(client, app, "GET", f"/api/orders/{ORDER.order_no}")
    assert detail.status_code == 200
    assert detail.json["status"] == "delivered"
    assert ORDER.card_keys[0].secret not in detail.get_data(as_text=True)  # masked
    AuthActions(client).login()
    page = client.get(f"/orders/{ORDER.order_no}")
    assert page.status_code == 200 and ORDER.order_no in page.get_data(as_text=True)

    first = call(client, app, "POST", f"/api/orders/{ORDER.order_no}/reissue",
                 {"reason": "key already used"}, key="reissue-1")
    assert first.status_code == 200, first.json
    assert first.json["action"]["state"] == "done"
    assert first.json["action"]["new_keys"] == [{"serial": "FRESH-0001",
                                                 "secret": "FRESH-SECRET-1"}]
    again = call(client, app, "POST", f"/api/orders/{ORDER.order_no}/reissue",
                 {"reason": "key already used"}, key="reissue-1")
    assert again.json["action"]["id"] == first.json["action"]["id"]
    info = shop.info(ORDER.order_no)
    assert info.endswith("FRESH-0001----FRESH-SECRET-1")
    assert info.count("FRESH-0001") == 1
    assert shop.unsold(KEY_CARD) == 0
    empty = call(client, app, "POST", f"/api/orders/{ORDER.order_no}/reissue",
                 {"reason": "again"}, key="reissue-2")
    assert empty.status_code == 409 and empty.json["error"]["code"] == "out_of_stock"


def test_refunds_are_recorded_as_manual(app, shop):
    client = app.test_client()
    answer = call(client, app, "POST", f"/api/orders/{ORDER.order_no}/refund",
                  {"amount": "10.00", "reason": "late", "reference": "alipay 88"}, key="r-1")
    assert answer.status_code == 200, answer.json
    assert answer.json["action"]["result"]["manual"] is True
    assert answer.json["action"]["manual_reference"] == "alipay 88"
    with shop.engine.connect() as conn:  # dujiaoka itself is left as it was
        status = conn.execute(text("SELECT status FROM orders WHERE order_sn = :sn"),
                              {"sn": ORDER.order_no}).scalar()
    assert status == 4
    assert Decimal(answer.json["action"]["amount"]) == Decimal("10.00")


def test_customers_verify_with_dujiaokas_query_password(app):
    client = app.test_client()
    session = client.post("/api/widget/sessions", json={})
    headers = {"Authorization": f"Bearer {session.json['token']}"}
    wrong = client.post("/api/widget/verify-order", headers=headers,
                        json={"order_no": ORDER.order_no, "search_password": "guess"})
    assert wrong.status_code == 403
    right = client.post("/api/widget/verify-order", headers=headers,
                        json={"order_no": ORDER.order_no, "search_password": "cha-xun-88"})
    assert right.status_code == 200, right.json
    assert right.json["order"]["order_no"] == ORDER.order_no
