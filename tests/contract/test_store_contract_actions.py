"""Each action an adapter declares, once per idempotency key, with typed refusals.

Run against every adapter (``-k dujiaoka``, ``-k http``); an action an adapter does not
declare is skipped here and refused in test_store_contract.py.
"""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

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
)
from tests.order_factory import KEY_CARD, make_order


def declares(adapter, capability: str) -> None:
    if capability not in adapter.store.capabilities:
        pytest.skip(f"{adapter.name} does not declare {capability}")


def live(order) -> list[str]:
    return [k.serial for k in order.card_keys if k.status == "delivered"]


# --- reissue ------------------------------------------------------------------------

def test_reissue_replaces_the_key_once_per_key(adapter):
    declares(adapter, CAP_REISSUE)
    adapter.add([make_order("CK-1", status="delivered", keys=1)])
    shelf = adapter.stock(KEY_CARD, 2)
    got = adapter.store.reissue("CK-1", "dead key", "ck-key-1")
    assert live(got) == [shelf[0]]
    assert "CK-1-S0" in {k.serial for k in got.card_keys if k.status != "delivered"}
    assert got.status == "delivered"
    again = adapter.store.reissue("CK-1", "dead key", "ck-key-1")
    assert live(again) == [shelf[0]]  # a replay takes nothing off the shelf
    assert live(adapter.store.reissue("CK-1", "dead again", "ck-key-2")) == [shelf[1]]


def test_reissue_delivers_a_paid_undelivered_order(adapter):
    declares(adapter, CAP_REISSUE)
    adapter.add([make_order("CK-2", status="processing")])
    shelf = adapter.stock(KEY_CARD, 1)
    got = adapter.store.reissue("CK-2", "supplier failed", "ck-key-3")
    assert (got.status, live(got)) == ("delivered", shelf)


def test_reissue_refusals_are_typed_and_change_nothing(adapter):
    declares(adapter, CAP_REISSUE)
    adapter.add([make_order("CK-3", status="delivered", keys=1),
                 make_order("CK-4", status="pending_payment", paid_ago=None),
                 make_order("CK-5", status="delivered", keys=1)])
    before = adapter.store.get("CK-3")
    with pytest.raises(OutOfStock) as caught:
        adapter.store.reissue("CK-3", "dead key", "ck-key-4")
    assert caught.value.code == "out_of_stock"
    assert adapter.store.get("CK-3") == before
    with pytest.raises(NotPaid):
        adapter.store.reissue("CK-4", "x", "ck-key-5")
    with pytest.raises(OrderNotFound):
        adapter.store.reissue("NOPE-0000", "x", "ck-key-6")
    shelf = adapter.stock(KEY_CARD, 1)
    # the refused attempt left its key unspent: it works once stock arrives
    assert live(adapter.store.reissue("CK-3", "dead key", "ck-key-4")) == shelf
    with pytest.raises(Conflict):
        adapter.store.reissue("CK-5", "x", "ck-key-4")
    assert live(adapter.store.get("CK-5")) == ["CK-5-S0"]


def test_concurrent_reissues_hand_each_key_out_once(adapter):
    declares(adapter, CAP_REISSUE)
    numbers = [f"CC-{i}" for i in range(4)]
    adapter.add([make_order(n, status="delivered", keys=1) for n in numbers])
    shelf = adapter.stock(KEY_CARD, 4)
    gate = threading.Barrier(12)

    def attempt(i: int) -> str:
        gate.wait()
        try:
            adapter.store.reissue(numbers[i % 4], "dead key", f"cc-key-{i}")
            return "ok"
        except OutOfStock:
            return "out_of_stock"

    with ThreadPoolExecutor(12) as pool:
        results = Counter(pool.map(attempt, range(12)))
    assert results == {"ok": 4, "out_of_stock": 8}
    handed = [s for n in numbers for k in adapter.store.get(n).card_keys
              for s in [k.serial] if s in shelf]
    assert sorted(handed) == sorted(shelf)


# --- refund, cancel, edit (where declared) --------------------------------------------

def test_refund_once_per_key(adapter):
    declares(adapter, CAP_REFUND)
    adapter.add([make_order("CR-1", status="delivered", keys=1)])
    first = adapter.store.refund("CR-1", Decimal("5.00"), "goodwill", "cr-key-1")
    again = adapter.store.refund("CR-1", Decimal("5.00"), "goodwill", "cr-key-1")
    assert first.refunded_amount == again.refunded_amount == Decimal("5.00")
    assert again.status == "partially_refunded"
    with pytest.raises(NotAllowed):  # over_refund is a NotAllowed
        adapter.store.refund("CR-1", Decimal("500.00"), "too much", "cr-key-2")


def test_cancel_once_per_key(adapter):
    declares(adapter, CAP_CANCEL)
    adapter.add([make_order("CX-1", status="processing"),
                 make_order("CX-2", status="delivered", keys=1)])
    got = adapter.store.cancel("CX-1", "changed mind", "cx-key-1")
    assert got == adapter.store.cancel("CX-1", "changed mind", "cx-key-1")
    assert (got.status, got.refunded_amount) == ("cancelled", Decimal("98.50"))
    with pytest.raises(NotAllowed):
        adapter.store.cancel("CX-2", "x", "cx-key-2")


def test_edit_once_per_key(adapter):
    declares(adapter, CAP_EDIT)
    adapter.add([make_order("CE-1", status="paid", recipient="wrong-1")])
    got = adapter.store.apply_edit("CE-1", {"recipient_account": "right-1"}, "ce-key-1")
    assert got.recipient_account == "right-1"
    assert adapter.store.apply_edit("CE-1", {"recipient_account": "right-1"}, "ce-key-1") == got
    with pytest.raises(NotAllowed):
        adapter.store.apply_edit("CE-1", {"amount_paid": "0.01"}, "ce-key-2")
