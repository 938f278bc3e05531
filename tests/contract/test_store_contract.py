"""The contract every order store must honour, run against each adapter on a real server.

``adapter`` (tests/contract/conftest.py) is each store with its orders loaded; ids name
the adapter (``-k dujiaoka``, ``-k http``).  What an adapter cannot hold (dujiaoka has no
phones or tags) is compared through ``adapter.view``; fragment kinds it cannot search by
are skipped by ``needs`` with the reason.  Loading (``OrderLoader``) is the reference
store's own business and is tested at the end on it alone.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from adapters import build_order_store
from adapters.base import (
    CAP_CHANGES,
    CAP_REFUND,
    CAP_SEARCH,
    Contact,
    NotAllowed,
    OrderLoader,
    OrderNotFound,
    OrderStore,
    ProductShelf,
    SearchQuery,
    StoreUnavailable,
)
from tests.conftest import sample_orders
from tests.contract.conftest import needs


def with_keys(adapter):
    """An order with a key, a payment, an email and an IP (the richest sample)."""
    return next(o for o in adapter.orders if o.card_keys and o.payment and o.buyer.phone
                and o.buyer.email and o.buyer_ip and
                any(k.status == "delivered" for k in o.card_keys))


def test_is_an_order_store(adapter):
    assert isinstance(adapter.store, OrderStore)
    assert CAP_SEARCH in adapter.store.capabilities
    adapter.store.ping()


def test_a_store_declaring_import_is_a_loader_and_counts_what_it_holds(adapter):
    store = adapter.store
    if "import" not in store.capabilities:
        assert not isinstance(store, OrderLoader)
        return
    assert isinstance(store, OrderLoader) and isinstance(store, ProductShelf)
    assert store.count() == len(adapter.orders)
    batches: list[int] = []
    assert store.load(adapter.orders[:7], on_batch=batches.append) == 7
    assert sum(batches) == 7 and store.count() == len(adapter.orders)


def test_get_returns_the_whole_order(adapter):
    for original in adapter.orders[:40]:
        want, got = adapter.view(original), adapter.store.get(original.order_no)
        assert got.order_no == want.order_no
        assert got.status == want.status
        assert got.amount_paid == want.amount_paid
        assert got.created_at == want.created_at
        assert got.product.sku == want.product.sku
        assert got.product.name == want.product.name
        assert got.buyer.phone == want.buyer.phone
        assert (got.buyer.email or "").lower() == (want.buyer.email or "").lower()
        assert got.buyer_ip == want.buyer_ip
        assert [(k.serial, k.secret, k.status) for k in got.card_keys] == \
            [(k.serial, k.secret, k.status) for k in want.card_keys]
        assert sorted(got.tags) == sorted(set(want.tags))
        assert (got.payment and got.payment.transaction_id) == \
            (want.payment and want.payment.transaction_id)
        assert got.search_password == want.search_password
        assert got.events and got.events[0].at <= got.events[-1].at


def test_unknown_order_raises_order_not_found(adapter):
    with pytest.raises(OrderNotFound) as caught:
        adapter.store.get("NOPE-0000")
    assert caught.value.code == "order_not_found"


def test_recent_is_newest_first_and_paginates(adapter):
    first = adapter.store.recent(offset=0, limit=25)
    second = adapter.store.recent(offset=25, limit=25)
    assert first.total == len(adapter.orders)
    assert len(first.items) == 25
    newest = sorted(adapter.orders, key=lambda o: o.created_at, reverse=True)
    assert [s.order_no for s in first.items] == [o.order_no for o in newest[:25]]
    assert not {s.order_no for s in first.items} & {s.order_no for s in second.items}


@pytest.mark.parametrize("kind", ["order_no", "transaction_id", "phone", "email", "serial",
                                  "ip"])
def test_search_by_exact_key(adapter, kind):
    needs(adapter, kind)
    order = with_keys(adapter)
    key = {"order_no": order.order_no, "transaction_id": order.payment.transaction_id,
           "phone": order.buyer.phone, "email": order.buyer.email.upper(),
           "serial": next(k.serial for k in order.card_keys if k.status == "delivered"),
           "ip": order.buyer_ip}[kind]
    found = {c.summary.order_no: c for c in adapter.store.search(SearchQuery(keys=(key,)))}
    assert order.order_no in found
    assert "key" in found[order.order_no].hits


def test_search_by_a_key_nobody_has_finds_nothing(adapter):
    assert adapter.store.search(SearchQuery(keys=("ZZ-NO-SUCH-KEY-42",))) == []


def test_search_by_phone_tail(adapter):
    needs(adapter, "phone_tail")
    order = next(o for o in adapter.orders if o.buyer.phone)
    tail = order.buyer.phone[-4:]
    by_tail = adapter.store.search(SearchQuery(phone_tails=(tail,)))
    assert order.order_no in {c.summary.order_no for c in by_tail}
    assert all((c.summary.buyer.phone or "").endswith(tail)
               or (c.summary.recipient_account or "").endswith(tail) for c in by_tail)


@pytest.mark.parametrize("kind", ["email_prefix", "email_middle"])
def test_search_by_a_fragment_of_the_email(adapter, kind):
    needs(adapter, kind)
    order = next(o for o in adapter.orders if o.buyer.email and len(o.buyer.email) > 12)
    local = order.buyer.email.split("@")[0]
    fragment = local[:6] if kind == "email_prefix" else local[-5:]
    found = {c.summary.order_no: c for c in
             adapter.store.search(SearchQuery(substrings=(fragment,)))}
    assert order.order_no in found
    assert "substring" in found[order.order_no].hits


def test_search_by_product(adapter):
    order = adapter.orders[7]
    sku = adapter.view(order).product.sku
    found = adapter.store.search(SearchQuery(skus=frozenset({sku}), limit=500))
    assert order.order_no in {c.summary.order_no for c in found}
    assert all(c.summary.sku == sku for c in found)


def test_search_intersects_a_key_with_hard_filters(adapter):
    order = with_keys(adapter)
    window = {"amount_min": order.amount_paid - Decimal("0.01"),
              "amount_max": order.amount_paid + Decimal("0.01"),
              "created_from": order.created_at - timedelta(hours=1),
              "created_to": order.created_at + timedelta(hours=1)}
    hit = adapter.store.search(SearchQuery(keys=(order.order_no,), **window))
    assert [c.summary.order_no for c in hit] == [order.order_no]
    assert {"key", "amount", "date"} <= hit[0].hits
    window["amount_min"] = order.amount_paid + Decimal("1.00")
    window["amount_max"] = order.amount_paid + Decimal("2.00")
    assert adapter.store.search(SearchQuery(keys=(order.order_no,), **window)) == []


def test_soft_filters_rank_but_do_not_exclude(adapter):
    order = with_keys(adapter)
    query = SearchQuery(keys=(order.order_no,), amount_min=order.amount_paid + 1,
                        amount_max=order.amount_paid + 2, soft=frozenset({"amount"}))
    found = adapter.store.search(query)
    assert [c.summary.order_no for c in found] == [order.order_no]
    assert "amount" not in found[0].hits


def test_search_by_amount_and_date_only(adapter):
    needs(adapter, "amount_date")
    order = adapter.orders[11]
    query = SearchQuery(amount_min=order.amount_paid, amount_max=order.amount_paid,
                        created_from=order.created_at - timedelta(hours=2),
                        created_to=order.created_at + timedelta(hours=2))
    found = adapter.store.search(query)
    assert order.order_no in {c.summary.order_no for c in found}
    for c in found:
        assert c.summary.amount_paid == order.amount_paid
        assert query.created_from <= c.summary.created_at < query.created_to
        assert {"amount", "date"} <= c.hits


def test_search_by_status_filter(adapter):
    statuses = {adapter.view(o).status for o in adapter.orders}
    wanted = sorted(statuses)[0]
    found = adapter.store.search(SearchQuery(statuses=frozenset({wanted}), limit=500))
    expected = {o.order_no for o in adapter.orders if adapter.view(o).status == wanted}
    assert {c.summary.order_no for c in found} == expected
    assert all(c.summary.status == wanted for c in found)


def test_search_tolerates_hostile_text(adapter):
    for fragment in ['"', 'a"b*c', "NEAR(x y)", "%_%", "'; DROP TABLE orders; --", "😀😀😀",
                     "+-><()~*", "\\"]:
        assert isinstance(adapter.store.search(SearchQuery(substrings=(fragment,))), list)
        assert isinstance(adapter.store.search(SearchQuery(keys=(fragment,))), list)
    assert adapter.store.recent(limit=1).total == len(adapter.orders)


def test_search_honours_the_limit(adapter):
    found = adapter.store.search(SearchQuery(amount_min=Decimal("0.00"), limit=7))
    assert len(found) == 7


def test_orders_for_customer(adapter):
    order = next(o for o in adapter.orders if o.buyer.email)
    email = order.buyer.email
    mine = adapter.store.orders_for_customer(Contact(email=email))
    assert order.order_no in {s.order_no for s in mine}
    assert all((s.buyer.email or "").lower() == email.lower() for s in mine)
    assert adapter.store.orders_for_customer(Contact()) == []
    if "phone" in adapter.kinds:
        phoned = next(o for o in adapter.orders if o.buyer.phone)
        by_phone = adapter.store.orders_for_customer(Contact(phone=phoned.buyer.phone))
        assert phoned.order_no in {s.order_no for s in by_phone}


def test_products_lists_the_catalogue(adapter):
    skus = {p.sku for p in adapter.store.products()}
    assert {adapter.view(o).product.sku for o in adapter.orders} <= skus


def test_undeclared_actions_are_refused(adapter):
    order = adapter.orders[0]
    calls = {
        "refund": lambda: adapter.store.refund(order.order_no, Decimal("1.00"), "t", "key-1"),
        "cancel": lambda: adapter.store.cancel(order.order_no, "t", "key-2"),
        "edit": lambda: adapter.store.apply_edit(order.order_no, {"remark": "x"}, "key-3"),
        "reissue": lambda: adapter.store.reissue(order.order_no, "t", "key-4"),
    }
    for capability, call in calls.items():
        if capability not in adapter.store.capabilities:
            with pytest.raises(NotAllowed):
                call()
    assert adapter.store.get(order.order_no).status == adapter.view(order).status


def test_changed_since_reports_updates_once(adapter):
    assert CAP_CHANGES in adapter.store.capabilities
    changes, cursor = adapter.store.changed_since("2000-01-01T00:00:00+00:00")
    assert {c.order_no for c in changes} == {o.order_no for o in adapter.orders}
    assert [c.at for c in changes] == sorted(c.at for c in changes)
    later, again = adapter.store.changed_since(cursor)
    assert later == []
    assert adapter.store.changed_since(again)[0] == []


def test_changed_since_without_a_cursor_starts_now(adapter):
    changes, cursor = adapter.store.changed_since(None)
    assert changes == [] and cursor


def test_related_counts_and_orders_for_ip(adapter):
    order = with_keys(adapter)
    related = adapter.store.related(order.order_no)
    same_email = sum(1 for o in adapter.orders if o.order_no != order.order_no
                     and (o.buyer.email or "").lower() == order.buyer.email.lower())
    if adapter.name.startswith("dujiaoka"):  # dujiaoka knows a buyer by email alone
        assert related.same_buyer == same_email
    assert related.same_ip >= 0
    with pytest.raises(OrderNotFound):
        adapter.store.related("NOPE-0000")
    if "ip" in adapter.kinds:
        mine = adapter.store.orders_for_ip(order.buyer_ip)
        assert order.order_no in {s.order_no for s in mine}
        assert all(s.buyer_ip == order.buyer_ip for s in mine)
    assert adapter.store.orders_for_ip("") == []


# --- the reference store's loader (not part of the port) ----------------------------------

@pytest.fixture
def sql_store(store_url):
    store = build_order_store("sql", store_url)
    orders = sample_orders(120, seed=11)
    store.load(orders)
    yield store, orders
    store.close()


def test_reloading_the_same_orders_changes_nothing(sql_store):
    store, orders = sql_store
    before = store.get(orders[3].order_no)
    assert store.load(orders[:50]) == 50
    assert store.recent(limit=1).total == len(orders)
    assert store.get(orders[3].order_no) == before


def test_upsert_updates_an_existing_order(sql_store):
    store, orders = sql_store
    store.load([orders[5].replace(status="after_sales", remark="customer called")])
    got = store.get(orders[5].order_no)
    assert (got.status, got.remark) == ("after_sales", "customer called")


@pytest.mark.parametrize("kind,url", [
    pytest.param("sql", "sqlite:///{tmp}/missing/dir/store.db", id="sql-sqlite"),
    pytest.param("sql", "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
                 id="sql-postgres"),
    pytest.param("dujiaoka", "mysql+pymysql://nobody@127.0.0.1:1/none", id="dujiaoka"),
])
def test_a_store_that_is_down_raises_store_unavailable(tmp_path, kind, url):
    with pytest.raises(StoreUnavailable) as caught:
        build_order_store(kind, url.format(tmp=tmp_path)).ping()
    assert caught.value.code == "store_unavailable"


def test_an_http_shop_that_is_down_raises_store_unavailable():
    from tests.servers import free_port
    store = build_order_store("http", f"http://127.0.0.1:{free_port()}/api", retries=0)
    with pytest.raises(StoreUnavailable):
        store.get("X-1")
    with pytest.raises(StoreUnavailable):  # unknown until the shop answers: never guessed
        assert CAP_REFUND not in store.capabilities
