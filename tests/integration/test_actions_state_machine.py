"""Random sequences of edit / approve / reissue / refund / cancel through the real API.

After every step: refunded never exceeds paid, the console's money records match the
store's, a final state stays final, and no card key is ever delivered twice.
"""
from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from adapters.base import STATUSES, Product
from adapters.sql.schema import card_keys, products
from tests.order_factory import load, make_order, stock

FINAL = frozenset({"refunded", "cancelled"})
numbers = itertools.count()


@pytest.fixture
def world(app, token_for):
    from console.store import get_store
    app.config.update(REFUND_APPROVAL_ABOVE=Decimal("50.00"),
                      REFUND_DAILY_LIMIT=Decimal("1000000.00"))
    with app.app_context():
        store = get_store()
    return app, store, {name: token_for(name) for name in ("agent", "supervisor", "admin")}


class Actions(RuleBasedStateMachine):
    """One fresh order (with its own product and two spare keys) per example."""

    edits = Bundle("edits")
    pending = Bundle("pending")

    def __init__(self, app, store, tokens) -> None:
        super().__init__()
        self.app, self.store, self.tokens = app, store, tokens
        self.client = app.test_client()
        n = next(numbers)
        self.order_no = f"SM-{n:05d}"
        self.product = Product(sku=f"SM-P{n}", name="state machine card", category="game_card",
                               face_value=Decimal("100.00"))
        load(store, make_order(self.order_no, status="paid", amount="100.00",
                               product=self.product, paid_ago=timedelta(minutes=1)))
        stock(store, self.product, 2, prefix=f"SM{n}")
        self.final_status: str | None = None
        self.voided: set[str] = set()
        self.last: tuple | None = None

    # --- plumbing --------------------------------------------------------------------
    def post(self, path: str, body: dict | None = None, user: str = "agent",
             key: str | None = None):
        key = key or uuid.uuid4().hex
        got = self.client.post(path, json=body or {}, headers={
            "Authorization": f"Bearer {self.tokens[user]}", "Idempotency-Key": key})
        assert got.status_code < 500, got.get_data(as_text=True)
        self.last = (path, body, user, key, got.status_code, got.json)
        return got

    def order_path(self, verb: str) -> str:
        return f"/api/orders/{self.order_no}/{verb}"

    # --- rules -----------------------------------------------------------------------
    @rule(target=edits, account=st.sampled_from(["acc-1", "acc-2", "acc-3"]))
    def request_edit(self, account):
        got = self.post("/api/edit-requests", {"order_no": self.order_no, "reason": "typo",
                                               "changes": {"recipient_account": account}})
        assert got.status_code in (201, 409)
        return multiple(got.json["request"]["id"]) if got.status_code == 201 else multiple()

    @rule(request_id=consumes(edits))
    def approve_edit(self, request_id):
        before = self.store.get(self.order_no)
        got = self.post(f"/api/edit-requests/{request_id}/approve")
        assert got.status_code in (200, 409)
        if got.status_code == 409 and got.json["error"]["code"] == "not_allowed":
            assert got.json["request"]["state"] == "refused"
            assert self.store.get(self.order_no).recipient_account == before.recipient_account

    @rule(request_id=consumes(edits))
    def reject_edit(self, request_id):
        assert self.post(f"/api/edit-requests/{request_id}/reject",
                         {"note": "no"}).status_code in (200, 409)

    @rule()
    def reissue(self):
        got = self.post(self.order_path("reissue"), {"reason": "dead key"})
        assert got.status_code in (200, 409)
        if got.status_code == 409:
            assert got.json["error"]["code"] in ("out_of_stock", "not_allowed", "not_paid")

    @rule(target=pending, cents=st.integers(min_value=1, max_value=12000))
    def refund(self, cents):
        amount = f"{Decimal(cents) / 100:.2f}"
        got = self.post(self.order_path("refund"), {"amount": amount, "reason": "asked"})
        assert got.status_code in (200, 202, 409), got.json
        if got.status_code == 202:
            return multiple(got.json["action"]["id"])
        return multiple()

    @rule(target=pending)
    def cancel(self):
        got = self.post(self.order_path("cancel"), {"reason": "asked"})
        assert got.status_code in (200, 202, 409), got.json
        return multiple(got.json["action"]["id"]) if got.status_code == 202 else multiple()

    @rule()
    def customer_cancel(self):
        from console.actions import service
        with self.app.test_request_context():
            try:
                service.customer_cancel(self.store, order_no=self.order_no, reason="",
                                        idempotency_key=uuid.uuid4().hex)
            except service.ActionError as exc:
                assert exc.status == 409

    @rule(action_id=consumes(pending), approver=st.sampled_from(["supervisor", "admin"]))
    def approve(self, action_id, approver):
        assert self.post(f"/api/actions/{action_id}/approve", user=approver).status_code in \
            (200, 409)

    @rule(action_id=consumes(pending))
    def reject(self, action_id):
        assert self.post(f"/api/actions/{action_id}/reject", {"note": "no"},
                         user="supervisor").status_code in (200, 409)

    @rule()
    def replay_last(self):
        if self.last is None:
            return
        path, body, user, key, status, answer = self.last
        got = self.post(path, body, user, key)
        assert (got.status_code, got.json) == (status, answer)

    # --- invariants -----------------------------------------------------------------
    @invariant()
    def refunded_never_exceeds_paid(self):
        order = self.store.get(self.order_no)
        assert order.status in STATUSES
        assert Decimal("0.00") <= order.refunded_amount <= order.amount_paid

    @invariant()
    def console_money_matches_the_store(self):
        from console.actions.models import Action
        from console.extensions import db
        with self.app.app_context():
            done = db.session.execute(select(Action.result).where(
                Action.order_no == self.order_no, Action.state == "done",
                Action.kind.in_(("refund", "cancel")))).scalars().all()
        recorded = sum((Decimal(r["refunded"]) for r in done), Decimal("0.00"))
        assert recorded == self.store.get(self.order_no).refunded_amount

    @invariant()
    def final_states_stay_final(self):
        status = self.store.get(self.order_no).status
        if self.final_status is not None:
            assert status == self.final_status
        elif status in FINAL:
            self.final_status = status

    @invariant()
    def a_key_is_delivered_once(self):
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(card_keys.c.serial, card_keys.c.order_id,
                                       card_keys.c.status)
                                .join(products, products.c.id == card_keys.c.product_id)
                                .where(products.c.sku == self.product.sku)).all()
        serials = [r.serial for r in rows]
        assert len(serials) == len(set(serials))
        assert all((r.order_id is None) == (r.status == "unsold") for r in rows)
        live = [r for r in rows if r.status == "delivered"]
        assert len(live) <= 1  # quantity 1: never two working keys
        now_voided = {r.serial for r in rows if r.status == "voided"}
        assert self.voided <= now_voided  # a voided key never comes back
        self.voided = now_voided


def test_random_action_sequences_keep_the_invariants(world):
    app, store, tokens = world
    run_state_machine_as_test(
        lambda: Actions(app, store, tokens),
        settings=settings(max_examples=30, stateful_step_count=12, deadline=None,
                          suppress_health_check=list(HealthCheck)))
