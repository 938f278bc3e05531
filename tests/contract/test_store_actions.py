"""The reference store's actions on SQLite and PostgreSQL: once per key, never racy."""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from adapters import build_order_store
from adapters.base import (
    CAP_CANCEL,
    CAP_EDIT,
    CAP_REFUND,
    CAP_REISSUE,
    Conflict,
    NotAllowed,
    NotPaid,
    OrderNotFound,
    OutOfStock,
    OverRefund,
    SearchQuery,
)
from adapters.sql.schema import card_keys, orders
from tests.order_factory import HALF_CARD, KEY_CARD, OTHER_CARD, TOPUP, load, make_order, stock


@pytest.fixture
def store(store_url):
    store = build_order_store("sql", store_url)
    yield store
    store.close()


def kinds(order) -> list[str]:
    return [e.kind for e in order.events]


def test_declares_the_four_actions(store):
    assert {CAP_EDIT, CAP_REISSUE, CAP_REFUND, CAP_CANCEL} <= store.capabilities


# --- refund -------------------------------------------------------------------------

def test_full_refund_marks_refunded_and_logs_it(store):
    load(store, make_order("R-1", status="delivered", keys=1))
    before = store.get("R-1")
    after = store.refund("R-1", Decimal("98.50"), "dead key", "k-r1")
    assert after.status == "refunded"
    assert after.refunded_amount == Decimal("98.50")
    assert kinds(after)[-1] == "refunded" and "dead key" in after.events[-1].detail
    assert after.updated_at > before.updated_at


def test_partial_refunds_add_up_to_refunded(store):
    load(store, make_order("R-2", status="delivered", keys=1))
    first = store.refund("R-2", Decimal("10.00"), "late", "k-r2a")
    assert (first.status, first.refunded_amount) == ("partially_refunded", Decimal("10.00"))
    assert kinds(first)[-1] == "partially_refunded"
    second = store.refund("R-2", Decimal("88.50"), "rest", "k-r2b")
    assert (second.status, second.refunded_amount) == ("refunded", Decimal("98.50"))


def test_over_refund_is_refused_and_changes_nothing(store):
    load(store, make_order("R-3", status="delivered", keys=1, refunded="50.00",
                           ).replace(status="partially_refunded"))
    before = store.get("R-3")
    with pytest.raises(OverRefund) as caught:
        store.refund("R-3", Decimal("48.51"), "too much", "k-r3")
    assert caught.value.code == "over_refund" and isinstance(caught.value, NotAllowed)
    assert store.get("R-3") == before
    # the key was not spent by the refused attempt
    assert store.refund("R-3", Decimal("48.50"), "the rest", "k-r3").status == "refunded"


def test_refund_of_an_unpaid_order_is_refused(store):
    load(store, make_order("R-4", status="pending_payment", paid_ago=None))
    with pytest.raises(NotPaid):
        store.refund("R-4", Decimal("1.00"), "x", "k-r4")
    assert store.get("R-4").refunded_amount == Decimal("0.00")


def test_refund_of_a_missing_order_is_order_not_found(store):
    load(store, make_order("R-5"))
    with pytest.raises(OrderNotFound):
        store.refund("NOPE", Decimal("1.00"), "x", "k-r5")


def test_a_repeated_key_refunds_once(store):
    load(store, make_order("R-6", status="delivered", keys=1))
    first = store.refund("R-6", Decimal("5.00"), "goodwill", "k-r6")
    again = store.refund("R-6", Decimal("5.00"), "goodwill", "k-r6")
    assert again.refunded_amount == first.refunded_amount == Decimal("5.00")
    assert kinds(again).count("partially_refunded") == 1


def test_a_key_spent_elsewhere_is_a_conflict(store):
    load(store, make_order("R-7", status="delivered", keys=1), make_order("R-8"))
    store.refund("R-7", Decimal("5.00"), "goodwill", "k-shared")
    with pytest.raises(Conflict):
        store.refund("R-8", Decimal("5.00"), "goodwill", "k-shared")
    with pytest.raises(Conflict):
        store.cancel("R-7", "x", "k-shared")
    assert store.get("R-8").refunded_amount == Decimal("0.00")


def test_concurrent_refunds_produce_exactly_one(store):
    load(store, make_order("R-9", status="delivered", keys=1))
    gate = threading.Barrier(8)

    def attempt(i: int) -> str:
        gate.wait()
        try:
            store.refund("R-9", Decimal("98.50"), "race", f"k-race-{i}")
            return "ok"
        except OverRefund:
            return "over"
        except NotAllowed:
            return "closed"

    with ThreadPoolExecutor(8) as pool:
        results = Counter(pool.map(attempt, range(8)))
    assert results["ok"] == 1, results
    got = store.get("R-9")
    assert got.refunded_amount == Decimal("98.50")
    assert kinds(got).count("refunded") == 1


def test_concurrent_replays_of_one_key_refund_once(store):
    load(store, make_order("R-10", status="delivered", keys=1))
    gate = threading.Barrier(6)

    def attempt(_):
        gate.wait()
        return store.refund("R-10", Decimal("20.00"), "double click", "k-same").refunded_amount

    with ThreadPoolExecutor(6) as pool:
        assert set(pool.map(attempt, range(6))) == {Decimal("20.00")}
    assert kinds(store.get("R-10")).count("partially_refunded") == 1


# --- reissue ------------------------------------------------------------------------

def test_reissue_voids_the_old_key_and_delivers_a_new_one(store):
    load(store, make_order("K-1", status="delivered", keys=1))
    shelf = stock(store, KEY_CARD, 3)
    got = store.reissue("K-1", "dead key", "k-k1")
    by_serial = {k.serial: k.status for k in got.card_keys}
    assert by_serial == {"K-1-S0": "voided", shelf[0]: "delivered"}
    assert kinds(got)[-2:] == ["voided", "reissued"]
    assert shelf[0] in got.events[-1].detail and "K-1-S0" in got.events[-2].detail
    assert got.status == "delivered"
    assert store.stock(KEY_CARD.sku) == 2
    assert store.reissue("K-1", "dead key", "k-k1") == got


def test_a_reissued_serial_is_searchable_at_once(store):
    from adapters.base import SearchQuery
    load(store, make_order("K-9", status="delivered", keys=1))
    shelf = stock(store, KEY_CARD, 1)
    store.reissue("K-9", "dead key", "k-k9")
    fragment = shelf[0][-6:]
    found = store.search(SearchQuery(substrings=(fragment,)))
    assert "K-9" in {c.summary.order_no for c in found}


def test_reissue_with_empty_inventory_voids_nothing(store):
    load(store, make_order("K-2", status="delivered", keys=1))
    before = store.get("K-2")
    with pytest.raises(OutOfStock) as caught:
        store.reissue("K-2", "dead key", "k-k2")
    assert caught.value.code == "out_of_stock"
    assert store.get("K-2") == before
    stock(store, KEY_CARD, 1)
    assert store.reissue("K-2", "dead key", "k-k2").card_keys[0].status == "voided"


def test_reissue_needing_more_keys_than_stocked_takes_none(store):
    load(store, make_order("K-3", status="delivered", keys=2, quantity=2, amount="197.00"))
    stock(store, KEY_CARD, 1)
    with pytest.raises(OutOfStock):
        store.reissue("K-3", "both dead", "k-k3")
    assert store.stock(KEY_CARD.sku) == 1
    assert [k.status for k in store.get("K-3").card_keys] == ["delivered", "delivered"]


def test_reissue_delivers_an_undelivered_paid_order(store):
    load(store, make_order("K-4", status="failed", quantity=2, amount="197.00"))
    shelf = stock(store, KEY_CARD, 2)
    got = store.reissue("K-4", "supplier failed", "k-k4")
    assert got.status == "delivered"
    assert sorted(k.serial for k in got.card_keys) == sorted(shelf)
    assert kinds(got)[-1] == "reissued" and "voided" not in kinds(got)


def test_reissue_of_a_direct_top_up_is_not_allowed(store):
    load(store, make_order("K-5", status="failed", product=TOPUP))
    with pytest.raises(NotAllowed, match="topped up directly"):
        store.reissue("K-5", "x", "k-k5")


def test_reissue_of_refunded_or_unpaid_orders_is_refused(store):
    load(store, make_order("K-6", status="refunded", refunded="98.50", keys=1),
         make_order("K-7", status="pending_payment", paid_ago=None))
    stock(store, KEY_CARD, 2)
    with pytest.raises(NotAllowed):
        store.reissue("K-6", "x", "k-k6")
    with pytest.raises(NotPaid):
        store.reissue("K-7", "x", "k-k7")
    assert store.stock(KEY_CARD.sku) == 2


def test_fifty_concurrent_reissues_hand_out_ten_keys_once_each(store):
    numbers = [f"C-{i:02d}" for i in range(10)]
    load(store, *(make_order(n, status="delivered", keys=1) for n in numbers))
    shelf = stock(store, KEY_CARD, 10)
    gate = threading.Barrier(50)

    def attempt(i: int) -> str:
        gate.wait()
        try:
            store.reissue(numbers[i % 10], "dead key", f"k-reissue-{i}")
            return "ok"
        except OutOfStock:
            return "out_of_stock"

    with ThreadPoolExecutor(50) as pool:
        results = Counter(pool.map(attempt, range(50)))
    assert results == {"ok": 10, "out_of_stock": 40}
    assert store.stock(KEY_CARD.sku) == 0
    with store.engine.connect() as conn:
        owners = conn.execute(select(card_keys.c.serial, card_keys.c.order_id)
                              .where(card_keys.c.serial.in_(shelf))).all()
    assert len(owners) == 10 and all(o.order_id is not None for o in owners)
    delivered = [k.serial for n in numbers for k in store.get(n).card_keys
                 if k.serial in shelf]
    assert sorted(delivered) == sorted(shelf)  # every new key on exactly one order
    for n in numbers:  # and every order still holds exactly one live key
        assert [k.status for k in store.get(n).card_keys].count("delivered") == 1


# --- cancel -------------------------------------------------------------------------

def test_cancel_before_delivery_refunds_what_was_paid(store):
    load(store, make_order("X-1", status="processing"))
    got = store.cancel("X-1", "customer changed mind", "k-x1")
    assert (got.status, got.refunded_amount) == ("cancelled", Decimal("98.50"))
    assert kinds(got)[-1] == "cancelled" and "98.50 refunded" in got.events[-1].detail


def test_cancel_of_an_unpaid_order_refunds_nothing(store):
    load(store, make_order("X-2", status="pending_payment", paid_ago=None))
    got = store.cancel("X-2", "", "k-x2")
    assert (got.status, got.refunded_amount) == ("cancelled", Decimal("0.00"))


def test_cancel_after_delivery_is_refused(store):
    load(store, make_order("X-3", status="delivered", keys=1),
         make_order("X-4", status="cancelled"))
    with pytest.raises(NotAllowed, match="already delivered"):
        store.cancel("X-3", "x", "k-x3")
    with pytest.raises(NotAllowed, match="already cancelled"):
        store.cancel("X-4", "x", "k-x4")
    assert store.get("X-3").status == "delivered"


# --- edit ---------------------------------------------------------------------------

def test_edit_changes_the_recipient_and_search_finds_it(store):
    load(store, make_order("E-1", status="paid", recipient="wrong-acc-1"))
    got = store.apply_edit("E-1", {"recipient_account": "right-acc-9", "remark": "fixed"},
                           "k-e1")
    assert (got.recipient_account, got.remark) == ("right-acc-9", "fixed")
    assert kinds(got)[-1] == "edit_applied" and "right-acc-9" in got.events[-1].detail
    found = store.search(SearchQuery(keys=("right-acc-9",)))
    assert [c.summary.order_no for c in found] == ["E-1"]


def test_edit_swaps_products_of_the_same_value_only(store):
    load(store, make_order("E-2", status="paid"))
    store.add_products([HALF_CARD, OTHER_CARD])
    got = store.apply_edit("E-2", {"sku": OTHER_CARD.sku}, "k-e2")
    assert got.product.sku == OTHER_CARD.sku
    got = store.apply_edit("E-2", {"sku": HALF_CARD.sku, "quantity": 2}, "k-e2b")
    assert (got.product.sku, got.quantity) == (HALF_CARD.sku, 2)
    with pytest.raises(NotAllowed, match="worth"):
        store.apply_edit("E-2", {"quantity": 3}, "k-e2c")
    with pytest.raises(NotAllowed, match="no product"):
        store.apply_edit("E-2", {"sku": "NOPE"}, "k-e2d")
    with pytest.raises(NotAllowed, match="cannot be edited"):
        store.apply_edit("E-2", {"amount_paid": "0.01"}, "k-e2e")


def test_edit_after_delivery_is_refused(store):
    load(store, make_order("E-3", status="delivered", keys=1))
    before = store.get("E-3")
    with pytest.raises(NotAllowed, match="reissue or refund"):
        store.apply_edit("E-3", {"recipient_account": "other"}, "k-e3")
    assert store.get("E-3") == before


def test_updated_at_moves_so_change_watchers_see_actions(store):
    load(store, make_order("W-1", status="delivered", keys=1))
    with store.engine.connect() as conn:
        cursor = conn.execute(select(orders.c.updated_at)
                              .where(orders.c.order_no == "W-1")).scalar_one()
    store.refund("W-1", Decimal("1.00"), "goodwill", "k-w1")
    changes, _ = store.changed_since((cursor + timedelta(microseconds=1)).isoformat())
    assert [(c.order_no, c.status) for c in changes] == [("W-1", "partially_refunded")]
