"""The store's related-orders signals (same IP, same buyer), on every backend the contract covers."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from adapters import build_order_store
from adapters.base import Buyer, OrderNotFound, OrderStore, RelatedCounts
from tests.conftest import sample_orders

SHARED_IP = "203.0.113.77"


@pytest.fixture
def orders():
    """Generated orders plus a planted cluster: four buyers behind one IP, one of them twice."""
    base = sample_orders(120, seed=23)
    template = base[0]
    planted = []
    for n in range(5):
        buyer = Buyer(phone=f"1390000{n % 4:04d}")
        planted.append(template.replace(
            order_no=f"KDREL{n:04d}", buyer=buyer, buyer_ip=SHARED_IP,
            created_at=template.created_at + timedelta(minutes=n),
            paid_at=None, payment=None, card_keys=(), events=()))
    lonely = template.replace(order_no="KDRELNOIP", buyer=Buyer(), buyer_ip=None,
                              paid_at=None, payment=None, card_keys=(), events=())
    return base + planted + [lonely]


@pytest.fixture
def store(store_url, orders):
    store = build_order_store("sql", store_url)
    store.load(orders)
    yield store
    store.close()


def identity(order) -> str | None:
    """How the reference store recognises one buyer (phone, else email, else account)."""
    b = order.buyer
    return b.phone or (b.email or "").lower() or b.account or None


def test_the_store_still_satisfies_the_port(store):
    assert isinstance(store, OrderStore)


def test_related_counts_other_orders_from_the_same_ip_and_buyer(store, orders):
    by_ip = Counter(o.buyer_ip for o in orders if o.buyer_ip)
    by_buyer = Counter(identity(o) for o in orders if identity(o))
    for order in orders:
        expected = RelatedCounts(
            same_ip=by_ip[order.buyer_ip] - 1 if order.buyer_ip else 0,
            same_buyer=by_buyer[identity(order)] - 1 if identity(order) else 0,
        )
        assert store.related(order.order_no) == expected, order.order_no


def test_planted_cluster_is_seen_from_each_member(store):
    assert store.related("KDREL0000") == RelatedCounts(same_ip=4, same_buyer=1)
    assert store.related("KDREL0001") == RelatedCounts(same_ip=4, same_buyer=0)


def test_an_order_without_ip_or_buyer_has_no_relations(store):
    assert store.related("KDRELNOIP") == RelatedCounts(0, 0)


def test_related_of_an_unknown_order_raises_order_not_found(store):
    with pytest.raises(OrderNotFound):
        store.related("NOPE-0000")


def test_orders_for_ip_lists_them_newest_first_and_honours_limit(store):
    got = store.orders_for_ip(SHARED_IP, limit=50)
    assert [s.order_no for s in got] == [f"KDREL{n:04d}" for n in range(4, -1, -1)]
    assert all(s.buyer_ip == SHARED_IP for s in got)
    assert [s.order_no for s in store.orders_for_ip(SHARED_IP, limit=2)] == ["KDREL0004",
                                                                          "KDREL0003"]


def test_orders_for_ip_matches_exactly(store):
    assert store.orders_for_ip(SHARED_IP[:-1]) == []
    assert store.orders_for_ip("") == []
