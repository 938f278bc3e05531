"""DujiaokaStore on a real MariaDB: dujiaoka's codes, its carmis, its indexes, its GRANTs."""
from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from adapters import build_order_store
from adapters import dujiaoka as dujiaoka_module
from adapters.base import CAP_REFUND, Contact, NotAllowed, SearchQuery
from adapters.dujiaoka_rows import ACTIONS_DDL
from tests.dujiaoka.shop import DujiaokaShop, fresh_dujiaoka_database
from tests.order_factory import KEY_CARD, TOPUP, make_order

pytestmark = pytest.mark.mariadb


@pytest.fixture
def shop(mariadb_url):
    with fresh_dujiaoka_database(mariadb_url) as url:
        shop = DujiaokaShop(url)
        shop.url = url
        yield shop
        shop.close()


@pytest.fixture(params=["plain", "indexed"])
def any_shop(request, mariadb_url):
    """dujiaoka's own indexes only, or with those ``kamidesk store-indexes`` prints."""
    with fresh_dujiaoka_database(mariadb_url, indexed=request.param == "indexed") as url:
        shop = DujiaokaShop(url)
        shop.url = url
        yield shop
        shop.close()


@pytest.fixture
def store(shop):
    store = build_order_store("dujiaoka", shop.url)
    yield store
    store.close()


def raw_order(shop: DujiaokaShop, order_sn: str, status: int, kind: int = 1, info=None):
    goods = shop.goods_id(KEY_CARD)
    with shop.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO orders (order_sn, goods_id, title, type, buy_amount, actual_price, "
            "email, info, buy_ip, status, search_pwd, created_at, updated_at) VALUES (:sn, :g, "
            "'腾讯Q币100元卡密 x 1', :t, 1, 98.50, 'x@example.com', :info, '198.51.100.1', :s, "
            "'pw-1', NOW(), NOW())"), {"sn": order_sn, "g": goods, "t": kind, "s": status,
                                       "info": info})


@pytest.mark.parametrize("code,kind,status", [
    (1, 1, "pending_payment"), (2, 1, "paid"), (3, 1, "processing"), (4, 1, "delivered"),
    (4, 2, "completed"), (5, 1, "failed"), (6, 1, "after_sales"), (-1, 1, "expired"),
])
def test_status_codes_and_delivery_type_map_to_reference_statuses(shop, store, code, kind,
                                                                 status):
    raw_order(shop, "DJ-S", code, kind)
    got = store.get("DJ-S")
    assert got.status == status
    assert got.search_password == "pw-1"
    found = store.search(SearchQuery(statuses=frozenset({status}), limit=10))
    assert [c.summary.order_no for c in found] == ["DJ-S"]


def test_delivered_keys_in_info_are_card_keys(shop, store):
    raw_order(shop, "DJ-K", 4, info="卡号：AAAA-1111 密码：SECRET-1\nBBBB-2222----SECRET-2\nLONEKEY")
    keys = store.get("DJ-K").card_keys
    assert [(k.serial, k.secret, k.status) for k in keys] == [
        ("AAAA-1111", "SECRET-1", "delivered"), ("BBBB-2222", "SECRET-2", "delivered"),
        ("LONEKEY", "LONEKEY", "delivered")]


def test_manual_orders_keep_the_buyers_input_as_remark(shop, store):
    raw_order(shop, "DJ-M", 4, kind=2, info="充值账号: 5531539197")
    got = store.get("DJ-M")
    assert (got.status, got.card_keys, got.remark) == ("completed", (), "充值账号: 5531539197")


def test_reissue_sells_one_carmi_and_appends_it_to_info(shop, store):
    shop.add_orders([make_order("DJ-R", status="delivered", keys=1)])
    shop.add_carmis(KEY_CARD, ["NEWKEY-1----NEWSECRET-1", "NEWKEY-2----NEWSECRET-2"])
    got = store.reissue("DJ-R", "dead key", "dj-key-1")
    assert [(k.serial, k.status) for k in got.card_keys] == [
        ("DJ-R-S0", "reissued"), ("NEWKEY-1", "delivered")]
    assert got.events[-1].kind in ("reissued", "delivered")
    assert "reissued" in [e.kind for e in got.events]
    info = shop.info("DJ-R").splitlines()
    assert info[0] == "DJ-R-S0----DJ-R-SECRET-0"
    assert re.match(r"^=== 补发 / reissued \d{4}-\d\d-\d\d \d\d:\d\d:\d\d ===$", info[1])
    assert info[2:] == ["NEWKEY-1----NEWSECRET-1"]
    assert shop.unsold(KEY_CARD) == 1
    with shop.engine.connect() as conn:
        sold = conn.execute(text("SELECT carmi FROM carmis WHERE status = 2")).scalars().all()
        spent = conn.execute(text("SELECT order_sn, kind FROM kamidesk_actions")).all()
    assert sold == ["NEWKEY-1----NEWSECRET-1"]
    assert [tuple(r) for r in spent] == [("DJ-R", "reissue")]


def test_loop_carmis_stay_on_sale(shop, store):
    shop.add_orders([make_order("DJ-L1", status="delivered", keys=1),
                     make_order("DJ-L2", status="delivered", keys=1)])
    shop.add_carmis(KEY_CARD, ["SHARED-ACCOUNT----PW"], loop=True)
    assert store.reissue("DJ-L1", "x", "dj-l1").card_keys[-1].serial == "SHARED-ACCOUNT"
    assert store.reissue("DJ-L2", "x", "dj-l2").card_keys[-1].serial == "SHARED-ACCOUNT"
    assert shop.unsold(KEY_CARD) == 1


def test_manual_goods_cannot_be_reissued(shop, store):
    shop.add_orders([make_order("DJ-T", status="completed", product=TOPUP)])
    with pytest.raises(NotAllowed, match="by hand"):
        store.reissue("DJ-T", "x", "dj-t")


def test_refund_is_not_declared_and_refused(shop, store):
    shop.add_orders([make_order("DJ-F", status="delivered", keys=1)])
    assert CAP_REFUND not in store.capabilities
    with pytest.raises(NotAllowed, match="payment channel"):
        store.refund("DJ-F", 1, "x", "dj-f")


def test_timezone_parameter_reads_the_shops_wall_clock(shop):
    order = make_order("DJ-Z", status="paid")
    shop.add_orders([order])  # written in Asia/Shanghai, dujiaoka's default
    utc_store = build_order_store("dujiaoka", shop.url + "?timezone=UTC")
    try:
        shanghai = build_order_store("dujiaoka", shop.url).get("DJ-Z").created_at
        assert shanghai == order.created_at
        assert utc_store.get("DJ-Z").created_at - shanghai == timedelta(hours=8)
    finally:
        utc_store.close()


# --- no lookup reads the whole orders table ----------------------------------------------

def _grow(shop: DujiaokaShop, copies: int = 14) -> None:
    """Double the orders table ``copies`` times (2**14 rows, older than the orders already
    there), so the optimizer plans as it would on a shop's table."""
    with shop.engine.begin() as conn:
        for _ in range(copies):
            conn.execute(text(
                "INSERT INTO orders (order_sn, goods_id, title, type, buy_amount, actual_price, "
                "email, info, buy_ip, trade_no, status, created_at, updated_at) SELECT "
                "CONCAT('G', id + (SELECT MAX(id) FROM orders)), goods_id, title, type, "
                "buy_amount, actual_price, CONCAT(id, email), info, CONCAT(buy_ip, id), "
                "CONCAT(trade_no, id), status, created_at - INTERVAL 30 DAY, "
                "updated_at - INTERVAL 30 DAY FROM orders"))
        conn.execute(text("ANALYZE TABLE orders"))


def test_no_lookup_reads_the_whole_orders_table(any_shop, monkeypatch):
    shop = any_shop
    store = build_order_store("dujiaoka", shop.url)
    shop.add_orders([make_order("DJ-P", status="delivered", keys=1)])
    _grow(shop)
    monkeypatch.setattr(dujiaoka_module, "FILTER_WINDOW", 500)
    monkeypatch.setattr(dujiaoka_module, "CHANGES_WINDOW", 500)
    seen: list[tuple[str, dict]] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "orders" in statement:
            seen.append((statement, parameters))

    order = store.get("DJ-P")
    sku = order.product.sku
    store.search(SearchQuery(keys=("DJ-P", "buyer@example.com", "T" + "DJ-P", "203.0.113.9",
                                   "DJ-P-S0")))
    store.search(SearchQuery(substrings=("buyer", "DJ-P-S"), skus=frozenset({sku})))
    store.search(SearchQuery(amount_min=order.amount_paid, amount_max=order.amount_paid,
                             created_from=order.created_at - timedelta(hours=1),
                             created_to=order.created_at + timedelta(hours=1)))
    store.search(SearchQuery(statuses=frozenset({"delivered"}), limit=20))
    store.orders_for_customer(Contact(email="buyer@example.com", phone="13800138000"))
    store.related("DJ-P")
    store.orders_for_ip("203.0.113.9")
    store.changed_since((order.updated_at - timedelta(seconds=5)).isoformat())
    event.remove(store.engine, "before_cursor_execute", record)
    assert len(seen) > 10
    with shop.engine.connect() as conn:
        total = conn.execute(text("SELECT COUNT(*) FROM orders")).scalar()
    read = []  # MariaDB's ANALYZE runs the statement and reports the rows each table gave
    with store.engine.connect() as conn:
        for statement, parameters in seen:
            for row in conn.exec_driver_sql("ANALYZE " + statement, parameters).mappings():
                if row["table"] == "orders":
                    read.append((float(row["r_rows"] or 0), statement))
    store.close()
    assert total > 16000
    # the widest: a date window bisected to within BISECT_SLACK ids, then walked
    bound = dujiaoka_module.BISECT_SLACK + 600
    assert max(rows for rows, _ in read) <= bound < total / 6, max(read)


# --- GRANTs: a read-only user reads, an actions user also reissues --------------------

def _user(shop: DujiaokaShop, grants: list[str]) -> str:
    url = make_url(shop.url)
    name = "kd_" + uuid.uuid4().hex[:8]
    with shop.engine.begin() as conn:
        conn.execute(text(f"CREATE USER '{name}'@'127.0.0.1' IDENTIFIED BY 'pw-{name}'"))
        for grant in grants:
            conn.execute(text(grant.format(db=url.database, user=f"'{name}'@'127.0.0.1'")))
    return url.set(username=name, password=f"pw-{name}").render_as_string(hide_password=False)


READ_ONLY = ["GRANT SELECT ON {db}.orders TO {user}", "GRANT SELECT ON {db}.goods TO {user}",
             "GRANT SELECT ON {db}.carmis TO {user}", "GRANT SELECT ON {db}.pays TO {user}"]
ACTIONS = READ_ONLY + [
    "GRANT UPDATE (info, status, updated_at) ON {db}.orders TO {user}",
    "GRANT UPDATE (status, updated_at) ON {db}.carmis TO {user}",
    "GRANT SELECT, INSERT ON {db}.kamidesk_actions TO {user}",
]


@contextmanager
def store_as(shop: DujiaokaShop, grants: list[str], order_no: str, table: bool = True):
    """A delivered order with one unsold key for it, and the store as a user with ``grants``."""
    shop.add_orders([make_order(order_no, status="delivered", keys=1)])
    shop.add_carmis(KEY_CARD, [f"{order_no}-NEW----{order_no}-SECRET"])
    with shop.engine.begin() as conn:
        conn.execute(text(ACTIONS_DDL if table else "DROP TABLE IF EXISTS kamidesk_actions"))
    store = build_order_store("dujiaoka", _user(shop, grants))
    try:
        yield store
    finally:
        store.close()


def test_a_read_only_user_reads_but_cannot_reissue(shop):
    with store_as(shop, READ_ONLY, "DJ-G1") as store:
        assert store.get("DJ-G1").status == "delivered"
        assert [c.summary.order_no for c in store.search(SearchQuery(keys=("DJ-G1",)))] == \
            ["DJ-G1"]
        with pytest.raises(NotAllowed, match="GRANT"):
            store.reissue("DJ-G1", "x", "dj-g1")
    assert shop.unsold(KEY_CARD) == 1


def test_the_documented_action_grants_are_enough_to_reissue(shop):
    with store_as(shop, ACTIONS, "DJ-G2") as store:
        got = store.reissue("DJ-G2", "dead key", "dj-g2")
        assert [k.serial for k in got.card_keys if k.status == "delivered"] == ["DJ-G2-NEW"]
        assert store.reissue("DJ-G2", "dead key", "dj-g2") == got
    assert shop.unsold(KEY_CARD) == 0


def test_a_user_without_create_gets_a_clear_message_when_the_table_is_missing(shop):
    with store_as(shop, READ_ONLY, "DJ-G3", table=False) as store:
        with pytest.raises(NotAllowed, match="store-indexes"):
            store.reissue("DJ-G3", "x", "dj-g3")
    assert shop.unsold(KEY_CARD) == 1
