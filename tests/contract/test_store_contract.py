"""The contract every order store must honour, run against each adapter on each backend."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from adapters import build_order_store
from adapters.base import (
    CAP_REFUND,
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


@pytest.fixture
def orders():
    return sample_orders(240, seed=11)


@pytest.fixture
def store(store_url, orders):
    store = build_order_store("sql", store_url)
    store.load(orders)
    yield store
    store.close()


def test_is_an_order_store(store):
    assert isinstance(store, OrderStore)
    assert "search" in store.capabilities


def test_a_store_declaring_import_is_a_loader_and_counts_what_it_holds(store, orders):
    if "import" not in store.capabilities:
        pytest.skip("this store does not declare the import capability")
    assert isinstance(store, OrderLoader) and isinstance(store, ProductShelf)
    assert store.count() == len(orders)
    batches: list[int] = []
    assert store.load(orders[:7], on_batch=batches.append) == 7
    assert sum(batches) == 7 and store.count() == len(orders)


def test_get_returns_the_whole_order(store, orders):
    for original in orders[:40]:
        got = store.get(original.order_no)
        assert got.order_no == original.order_no
        assert got.status == original.status
        assert got.amount_paid == original.amount_paid
        assert got.created_at == original.created_at
        assert got.product.sku == original.product.sku
        assert got.buyer.phone == original.buyer.phone
        assert (got.buyer.email or "") == (original.buyer.email or "").lower()
        assert got.card_keys == original.card_keys
        assert [e.kind for e in got.events] == [e.kind for e in sorted(
            original.events, key=lambda e: e.at)]
        assert sorted(got.tags) == sorted(set(original.tags))
        assert (got.payment and got.payment.transaction_id) == \
            (original.payment and original.payment.transaction_id)


def test_unknown_order_raises_order_not_found(store):
    with pytest.raises(OrderNotFound) as caught:
        store.get("NOPE-0000")
    assert caught.value.code == "order_not_found"


def test_recent_is_newest_first_and_paginates(store, orders):
    first = store.recent(offset=0, limit=25)
    second = store.recent(offset=25, limit=25)
    assert first.total == len(orders)
    newest = sorted(orders, key=lambda o: o.created_at, reverse=True)
    assert [s.order_no for s in first.items] == [o.order_no for o in newest[:25]]
    assert not {s.order_no for s in first.items} & {s.order_no for s in second.items}


def test_reloading_the_same_orders_changes_nothing(store, orders):
    target = orders[3]
    before = store.get(target.order_no)
    assert store.load(orders[:50]) == 50
    assert store.recent(limit=1).total == len(orders)
    assert store.get(target.order_no) == before


def test_upsert_updates_an_existing_order(store, orders):
    target = orders[5]
    store.load([target.replace(status="after_sales", remark="customer called")])
    got = store.get(target.order_no)
    assert (got.status, got.remark) == ("after_sales", "customer called")


@pytest.mark.parametrize("field", ["order_no", "transaction_id", "phone", "email", "serial"])
def test_search_by_exact_key(store, orders, field):
    order = next(o for o in orders if o.card_keys and o.payment and o.buyer.phone and o.buyer.email)
    key = {"order_no": order.order_no, "transaction_id": order.payment.transaction_id,
           "phone": order.buyer.phone, "email": order.buyer.email.upper(),
           "serial": order.card_keys[0].serial}[field]
    found = {c.summary.order_no: c for c in store.search(SearchQuery(keys=(key,)))}
    assert order.order_no in found
    assert "key" in found[order.order_no].hits


def test_search_by_phone_tail_and_substring(store, orders):
    order = next(o for o in orders if o.buyer.phone and o.buyer.email)
    by_tail = store.search(SearchQuery(phone_tails=(order.buyer.phone[-4:],)))
    assert order.order_no in {c.summary.order_no for c in by_tail}
    tail = order.buyer.phone[-4:]
    assert all((c.summary.buyer.phone or "").endswith(tail)
               or (c.summary.recipient_account or "").endswith(tail) for c in by_tail)
    fragment = order.buyer.email.split("@")[0][-5:]
    by_text = store.search(SearchQuery(substrings=(fragment,)))
    assert order.order_no in {c.summary.order_no for c in by_text}


def test_search_intersects_fragments_with_filters(store, orders):
    order = next(o for o in orders if o.buyer.phone)
    query = SearchQuery(phone_tails=(order.buyer.phone[-4:],),
                        amount_min=order.amount_paid - Decimal("0.01"),
                        amount_max=order.amount_paid + Decimal("0.01"),
                        created_from=order.created_at - timedelta(hours=1),
                        created_to=order.created_at + timedelta(hours=1))
    found = store.search(query)
    assert order.order_no in {c.summary.order_no for c in found}
    for c in found:
        assert abs(c.summary.amount_paid - order.amount_paid) <= Decimal("0.01")
        assert {"phone_tail", "amount", "date"} <= c.hits


def test_search_hostile_text_is_harmless(store):
    for fragment in ['"', 'a"b*c', "NEAR(x y)", "%_%", "'; DROP TABLE orders; --", "😀😀😀"]:
        assert isinstance(store.search(SearchQuery(substrings=(fragment,))), list)
    assert store.recent(limit=1).total > 0


def test_orders_for_customer(store, orders):
    order = next(o for o in orders if o.buyer.phone)
    mine = store.orders_for_customer(Contact(phone=order.buyer.phone))
    assert order.order_no in {s.order_no for s in mine}
    assert all(s.buyer.phone == order.buyer.phone for s in mine)
    assert store.orders_for_customer(Contact()) == []


def test_products_lists_the_catalogue(store, orders):
    skus = {p.sku for p in store.products()}
    assert {o.product.sku for o in orders} <= skus


def test_undeclared_actions_are_refused(store, orders):
    if CAP_REFUND not in store.capabilities:
        with pytest.raises(NotAllowed):
            store.refund(orders[0].order_no, Decimal("1.00"), "test", "key-1")


def test_changed_since_reports_updates(store, orders):
    changes, cursor = store.changed_since("2000-01-01T00:00:00+00:00")
    assert changes and all(c.order_no for c in changes)
    later, _ = store.changed_since(cursor)
    assert later == [] or later[0].at > changes[-1].at


@pytest.mark.parametrize("url", [
    "sqlite:///{tmp}/missing/dir/store.db",
    "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
])
def test_a_store_that_is_down_raises_store_unavailable(tmp_path, url):
    with pytest.raises(StoreUnavailable) as caught:
        build_order_store("sql", url.format(tmp=tmp_path))
    assert caught.value.code == "store_unavailable"
