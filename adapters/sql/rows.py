"""Turning reference-store rows into domain objects, and back."""
from __future__ import annotations

from decimal import Decimal
from typing import overload

from sqlalchemy import Select, select

from adapters.base import Buyer, CardKey, Order, OrderEvent, OrderSummary, PaymentProof, Product
from adapters.sql.schema import buyers, orders, payments, products

CENTS = Decimal(100)


@overload
def to_cents(value: Decimal) -> int: ...
@overload
def to_cents(value: None) -> None: ...
def to_cents(value: Decimal | None) -> int | None:
    return None if value is None else int((value * 100).to_integral_value())


@overload
def from_cents(value: int) -> Decimal: ...
@overload
def from_cents(value: None) -> None: ...
def from_cents(value: int | None) -> Decimal | None:
    return None if value is None else (Decimal(value) / CENTS).quantize(Decimal("0.01"))


def summary_select() -> Select:
    """The columns every order list needs, joined once."""
    return (
        select(
            orders.c.id, orders.c.order_no, orders.c.status, orders.c.created_at,
            orders.c.quantity, orders.c.amount_cents, orders.c.recipient_account,
            orders.c.buyer_ip, products.c.name.label("product_name"),
            products.c.category, products.c.sku, buyers.c.account, buyers.c.phone,
            buyers.c.email, payments.c.transaction_id,
        )
        .select_from(orders)
        .join(products, products.c.id == orders.c.product_id)
        .outerjoin(buyers, buyers.c.id == orders.c.buyer_id)
        .outerjoin(payments, payments.c.order_id == orders.c.id)
    )


def summary_from_row(row) -> OrderSummary:
    return OrderSummary(
        order_no=row.order_no, status=row.status, created_at=row.created_at,
        product_name=row.product_name, category=row.category,
        amount_paid=from_cents(row.amount_cents), quantity=row.quantity, sku=row.sku,
        buyer=Buyer(account=row.account, phone=row.phone, email=row.email),
        recipient_account=row.recipient_account, buyer_ip=row.buyer_ip,
        transaction_id=row.transaction_id,
    )


def product_from_row(row) -> Product:
    return Product(sku=row.sku, name=row.name, category=row.category,
                   face_value=from_cents(row.face_value_cents))


def order_from_rows(row, payment, keys, events, tags) -> Order:
    return Order(
        order_no=row.order_no, status=row.status, created_at=row.created_at,
        product=Product(sku=row.sku, name=row.product_name, category=row.category,
                        face_value=from_cents(row.product_face_value_cents)),
        quantity=row.quantity, amount_paid=from_cents(row.amount_cents),
        currency=row.currency, face_value=from_cents(row.face_value_cents),
        discount=from_cents(row.discount_cents), refunded_amount=from_cents(row.refunded_cents),
        paid_at=row.paid_at, updated_at=row.updated_at,
        buyer=Buyer(account=row.account, phone=row.phone, email=row.email),
        recipient_account=row.recipient_account, buyer_ip=row.buyer_ip, region=row.region,
        operator=row.operator, supplier=row.supplier,
        payment=None if payment is None else PaymentProof(
            channel=payment.channel, transaction_id=payment.transaction_id,
            payer=payment.payer, amount=from_cents(payment.amount_cents),
            paid_at=payment.paid_at, proof_url=payment.proof_url),
        card_keys=tuple(CardKey(serial=k.serial, secret=k.secret, status=k.status,
                                delivered_at=k.delivered_at) for k in keys),
        events=tuple(OrderEvent(at=e.at, kind=e.kind, detail=e.detail or "") for e in events),
        remark=row.remark, tags=tuple(t.tag for t in tags),
        search_password=row.search_password,
    )


def buyer_identity(buyer: Buyer) -> str | None:
    """One buyer per phone, else per email, else per account: how shops recognise people."""
    if buyer.phone:
        return "p:" + buyer.phone
    if buyer.email:
        return "e:" + buyer.email.lower()
    if buyer.account:
        return "a:" + buyer.account
    return None
