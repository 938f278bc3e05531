"""Edit, reissue, refund and cancel on the reference store: each once per key, none racy.

Every action is one transaction whose *first* statement claims its idempotency key in
``store_actions``.  That write doubles as the lock: on SQLite it takes the database's
write lock before anything is read (what ``BEGIN IMMEDIATE`` would give), so the checks
that follow see the latest committed state and nothing changes under them; on
PostgreSQL the order row is then read ``FOR NO KEY UPDATE``, which serialises actions on one
order while other orders proceed.  A repeated key finds its claim and changes nothing;
a key already spent on another order or another kind of action is a ``Conflict``.
Whatever fails inside rolls back whole: an ``OutOfStock`` reissue voids nothing and
leaves the key unspent, so the agent may retry once stock arrives.

Card keys leave the shelf by compare-and-set, never read-then-write: PostgreSQL picks
unsold rows ``FOR UPDATE SKIP LOCKED``; elsewhere ``UPDATE ... WHERE id = :picked AND
status = 'unsold'`` is retried on a miss.  (The most used open-source card shop selects an
unsold key and marks it sold by id afterwards, which can hand one key to two buyers.)
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import insert, literal, select, update
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from adapters.base import (
    Conflict,
    NotAllowed,
    NotPaid,
    OrderNotFound,
    OutOfStock,
    OverRefund,
    money,
)
from adapters.sql.rows import from_cents, to_cents
from adapters.sql.schema import (
    UtcDateTime,
    card_keys,
    order_events,
    orders,
    products,
    store_actions,
)

UNPAID = frozenset({"pending_payment", "expired"})
CLOSED = frozenset({"refunded", "cancelled", "expired"})
BEFORE_DELIVERY = frozenset({"pending_payment", "paid", "processing", "failed"})
# Statuses a reissue moves on to "delivered"; the others keep their status.
UNDELIVERED = frozenset({"paid", "processing", "failed", "after_sales"})
REISSUABLE = UNDELIVERED | {"delivered", "completed", "partially_refunded"}
DIRECT_CATEGORIES = frozenset({"phone_topup", "data_topup", "game_topup"})
EDITABLE_FIELDS = ("recipient_account", "sku", "quantity", "remark")
MAX_QUANTITY = 1000
CLAIM_ATTEMPTS = 100

Work = Callable[[Connection, Row, datetime], None]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# --- the frame every action runs in -------------------------------------------

def run_once(engine: Engine, order_no: str, kind: str, key: str, work: Work) -> bool:
    """Run ``work`` under the order's lock unless ``key`` was spent; True when it ran."""
    if not key or len(key) > 128:
        raise NotAllowed("an action needs an idempotency key of 1 to 128 characters")
    now = utcnow()
    try:
        with engine.begin() as conn:
            order_id = conn.execute(_claim(order_no, kind, key, now)).scalar()
            if order_id is None:
                raise OrderNotFound(order_no)
            # FOR NO KEY UPDATE: the claim's foreign key already holds KEY SHARE on the row,
            # which a plain FOR UPDATE would wait on (two claimants: a deadlock).
            row = conn.execute(select(orders).where(orders.c.id == order_id)
                               .with_for_update(key_share=True)).one()
            work(conn, row, now)
    except IntegrityError:
        spent = _spent(engine, key)
        if spent is None:
            raise  # another constraint failed, not the key's claim
        if (spent.order_no, spent.kind) != (order_no, kind):
            raise Conflict(f"idempotency key already used for {spent.kind} "
                           f"on order {spent.order_no}") from None
        return False
    return True


def _claim(order_no: str, kind: str, key: str, now: datetime):
    """INSERT ... SELECT: claims the key and proves the order exists in one write."""
    source = select(literal(key), orders.c.id, literal(kind),
                    literal(now, UtcDateTime())).where(orders.c.order_no == order_no)
    return (insert(store_actions).from_select(["key", "order_id", "kind", "at"], source)
            .returning(store_actions.c.order_id))


def _spent(engine: Engine, key: str) -> Row | None:
    """The order and kind a key was spent on, if it was."""
    query = (select(orders.c.order_no, store_actions.c.kind)
             .join(orders, orders.c.id == store_actions.c.order_id)
             .where(store_actions.c.key == key))
    with engine.connect() as conn:
        return conn.execute(query).first()


def _event(conn: Connection, order_id: int, now: datetime, kind: str, detail: str) -> None:
    conn.execute(order_events.insert().values(order_id=order_id, at=now, kind=kind,
                                              detail=detail[:2000]))


def _touch(conn: Connection, row: Row, now: datetime, **values: object) -> None:
    conn.execute(update(orders).where(orders.c.id == row.id).values(updated_at=now, **values))


def _delivered_keys(conn: Connection, order_id: int) -> Sequence[Row]:
    return conn.execute(select(card_keys).where(card_keys.c.order_id == order_id,
                                                card_keys.c.status == "delivered")
                        .order_by(card_keys.c.id)).all()


# --- refund ---------------------------------------------------------------------

def refund_work(amount: Decimal, reason: str) -> Work:
    cents = to_cents(money(amount))
    if cents <= 0:
        raise NotAllowed("a refund must be more than 0.00")

    def work(conn: Connection, row: Row, now: datetime) -> None:
        if row.status in UNPAID:
            raise NotPaid(f"order {row.order_no} has not been paid, so nothing can be refunded")
        if row.status in CLOSED:
            raise NotAllowed(f"order {row.order_no} is already {row.status}")
        left = row.amount_cents - row.refunded_cents
        if cents > left:
            raise OverRefund(f"a refund of {from_cents(cents)} is more than the "
                             f"{from_cents(left)} left to refund on order {row.order_no}")
        total = row.refunded_cents + cents
        status = "refunded" if total >= row.amount_cents else "partially_refunded"
        _touch(conn, row, now, refunded_cents=total, status=status)
        _event(conn, row.id, now, status, f"refunded {from_cents(cents)}: {reason}")
    return work


# --- cancel ---------------------------------------------------------------------

def cancel_work(reason: str) -> Work:
    def work(conn: Connection, row: Row, now: datetime) -> None:
        if row.status in CLOSED:
            raise NotAllowed(f"order {row.order_no} is already {row.status}")
        if row.status not in BEFORE_DELIVERY or _delivered_keys(conn, row.id):
            raise NotAllowed(f"order {row.order_no} was already delivered, so it cannot be "
                             "cancelled; reissue or refund instead")
        back = 0 if row.status == "pending_payment" else row.amount_cents - row.refunded_cents
        _touch(conn, row, now, status="cancelled", refunded_cents=row.refunded_cents + back)
        detail = f"cancelled: {reason}" if reason else "cancelled"
        if back:
            detail += f"; {from_cents(back)} refunded"
        _event(conn, row.id, now, "cancelled", detail)
    return work


# --- reissue --------------------------------------------------------------------

def reissue_work(reason: str) -> Work:
    def work(conn: Connection, row: Row, now: datetime) -> None:
        if row.status in UNPAID:
            raise NotPaid(f"order {row.order_no} has not been paid, so nothing can be delivered")
        if row.status not in REISSUABLE:
            raise NotAllowed(f"order {row.order_no} is {row.status}; nothing can be reissued")
        product = conn.execute(select(products).where(products.c.id == row.product_id)).one()
        old = _delivered_keys(conn, row.id)
        if not old and product.category in DIRECT_CATEGORIES:
            raise NotAllowed(f"{product.name} is topped up directly and has no card key "
                             "to reissue; resend through the supplier or refund")
        fresh = claim_keys(conn, row.product_id, product.sku, row.id, len(old) or row.quantity,
                           now)
        if old:
            conn.execute(update(card_keys).where(card_keys.c.id.in_([k.id for k in old]),
                                                 card_keys.c.status == "delivered")
                         .values(status="voided"))
            _event(conn, row.id, now, "voided",
                   f"card key {', '.join(k.serial for k in old)} voided: {reason}")
        status = "delivered" if row.status in UNDELIVERED else row.status
        _touch(conn, row, now, status=status)
        _event(conn, row.id, now, "reissued",
               f"new card key {', '.join(serial for serial in fresh)} issued: {reason}")
    return work


def claim_keys(conn: Connection, product_id: int, sku: str, order_id: int, count: int,
               now: datetime) -> list[str]:
    """Take ``count`` unsold keys of a product for an order, or raise OutOfStock."""
    delivered = {"status": "delivered", "order_id": order_id, "delivered_at": now}
    unsold = (card_keys.c.product_id == product_id, card_keys.c.status == "unsold")
    if conn.dialect.name == "postgresql":
        picked = conn.execute(select(card_keys.c.id, card_keys.c.serial).where(*unsold)
                              .order_by(card_keys.c.id).limit(count)
                              .with_for_update(skip_locked=True)).all()
        if len(picked) < count:
            raise OutOfStock(sku)
        conn.execute(update(card_keys).where(card_keys.c.id.in_([p.id for p in picked]))
                     .values(**delivered))
        return [p.serial for p in picked]
    serials: list[str] = []
    for _ in range(CLAIM_ATTEMPTS * count):
        if len(serials) == count:
            return serials
        pick = conn.execute(select(card_keys.c.id, card_keys.c.serial).where(*unsold)
                            .order_by(card_keys.c.id).limit(1)).first()
        if pick is None:
            raise OutOfStock(sku)
        won = conn.execute(update(card_keys)
                           .where(card_keys.c.id == pick.id, card_keys.c.status == "unsold")
                           .values(**delivered)).rowcount
        if won == 1:
            serials.append(pick.serial)
    if len(serials) == count:
        return serials
    raise OutOfStock(sku)


# --- edit -----------------------------------------------------------------------

def edit_work(changes: Mapping[str, object]) -> Work:
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise NotAllowed(f"these fields cannot be edited: {', '.join(unknown)}")
    if not changes:
        raise NotAllowed("nothing to change")

    def work(conn: Connection, row: Row, now: datetime) -> None:
        if row.status not in BEFORE_DELIVERY or _delivered_keys(conn, row.id):
            raise NotAllowed(f"order {row.order_no} is {row.status}: it was already delivered "
                             "or closed, so it cannot be edited; reissue or refund instead")
        values, notes = _edit_values(conn, row, changes)
        if not values:
            raise NotAllowed("the changes match the order as it is")
        _touch(conn, row, now, **values)
        _event(conn, row.id, now, "edit_applied", "; ".join(notes))
    return work


def _edit_values(conn: Connection, row: Row, changes: Mapping[str, object]):
    values: dict[str, object] = {}
    notes: list[str] = []
    current = conn.execute(select(products).where(products.c.id == row.product_id)).one()
    if "recipient_account" in changes:
        account = str(changes["recipient_account"] or "").strip()
        if not account or len(account) > 120:
            raise NotAllowed("the recipient account must be 1 to 120 characters")
        if account != row.recipient_account:
            values["recipient_account"] = account
            notes.append(f"recipient account {row.recipient_account or '-'} → {account}")
    if "remark" in changes:
        remark = str(changes["remark"] or "").strip()[:2000] or None
        if remark != row.remark:
            values["remark"] = remark
            notes.append("remark changed")
    product, quantity = current, row.quantity
    if "sku" in changes and str(changes["sku"]) != current.sku:
        found = conn.execute(select(products).where(products.c.sku == str(changes["sku"])))\
            .first()
        if found is None:
            raise NotAllowed(f"there is no product {changes['sku']!r}")
        product = found
    if "quantity" in changes:
        quantity = _quantity(changes["quantity"])
    if product.id != current.id or quantity != row.quantity:
        _same_value(current, row.quantity, product, quantity)
        values.update(product_id=product.id, quantity=quantity)
        notes.append(f"{row.quantity} × {current.sku} → {quantity} × {product.sku}")
    return values, notes


def _quantity(raw: object) -> int:
    try:
        quantity = int(str(raw))
    except ValueError:
        raise NotAllowed("the quantity must be a whole number") from None
    if not 1 <= quantity <= MAX_QUANTITY:
        raise NotAllowed(f"the quantity must be between 1 and {MAX_QUANTITY}")
    return quantity


def _same_value(old: Row, old_qty: int, new: Row, new_qty: int) -> None:
    """Swaps keep the order's value: the customer paid for that much, no more, no less."""
    if old.face_value_cents is None or new.face_value_cents is None:
        raise NotAllowed("the products' face values are unknown, so they cannot be swapped")
    before, after = old.face_value_cents * old_qty, new.face_value_cents * new_qty
    if before != after:
        raise NotAllowed(f"the new product and quantity are worth {from_cents(after)}, "
                         f"the order is worth {from_cents(before)}")
