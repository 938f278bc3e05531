"""An order turned into the plain rows the reference store writes, ids still to come.

Preparing is the Python half of loading (money to cents, times to the backend's form,
the search index's text); it needs no database, so a bulk import does it in worker
processes and sends the main process rows of plain values, which cross a process
boundary far more cheaply than ``Order`` objects.  The main process then only assigns
ids and writes (``adapters.sql.loader``).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import NamedTuple

from adapters.base import Order
from adapters.sql.rows import buyer_identity, to_cents
from adapters.sql.search_rows import key_body, phone_tails, search_body, secret_digests

UTC = timezone.utc


class PreparedOrder(NamedTuple):
    order_no: str
    product: tuple        # sku, name, category, face_value_cents
    buyer: tuple | None   # identity, account, phone, phone_tail, email (lower case)
    row: tuple            # the orders row after id, order_no, product_id, buyer_id
    payment: tuple | None  # the payments row after order_id
    events: tuple         # (at, kind, detail) each
    tags: tuple
    keys: tuple           # (serial, secret, status, delivered_at) each
    body: str             # order_text
    key_body: str         # order_key_text ("" when the order has no keys)
    tails: tuple          # order_phone_tails
    digests: tuple        # card_secret_digests


def sqlite_time(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DateTime writes (UTC, always with microseconds)."""
    if value is None:
        return None
    if value.tzinfo is UTC:  # what the JSONL codec hands over
        return value.isoformat(" ", "microseconds")[:26]
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the order store")
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def pg_time(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetime given to the order store")
    return value


def prepare(order: Order, sqlite: bool) -> PreparedOrder:
    """The rows of one order for a SQLite (``sqlite``) or PostgreSQL store."""
    at = sqlite_time if sqlite else pg_time
    product, buyer, payment = order.product, order.buyer, order.payment
    identity = buyer_identity(buyer)
    email = buyer.email.lower() if buyer.email else None
    buyer_row = None if identity is None else (
        identity, buyer.account, buyer.phone, buyer.phone[-4:] if buyer.phone else None, email)
    row = (order.status, order.quantity, to_cents(order.face_value), to_cents(order.amount_paid),
           to_cents(order.discount) or 0, to_cents(order.refunded_amount) or 0, order.currency,
           order.recipient_account, order.buyer_ip, order.region, order.operator,
           order.supplier, order.remark, order.search_password, at(order.created_at),
           at(order.paid_at), at(order.updated_at or order.paid_at or order.created_at))
    pay = None if payment is None else (
        payment.channel, payment.transaction_id, payment.payer, to_cents(payment.amount),
        at(payment.paid_at), payment.proof_url)
    keys = order.card_keys
    return PreparedOrder(
        order_no=order.order_no,
        product=(product.sku, product.name, product.category, to_cents(product.face_value)),
        buyer=buyer_row, row=row, payment=pay,
        events=tuple((at(e.at), e.kind, e.detail) for e in order.events),
        tags=tuple(dict.fromkeys(order.tags)),
        keys=tuple((k.serial, k.secret, k.status, at(k.delivered_at)) for k in keys),
        body=search_body(order.order_no, email, buyer.phone, buyer.account,
                         order.recipient_account, payment.transaction_id if payment else None,
                         payment.payer if payment else None, (k.serial for k in keys)),
        key_body=key_body((k.serial, k.secret) for k in keys),
        tails=phone_tails(buyer.phone, order.recipient_account),
        digests=secret_digests(k.secret for k in keys),
    )
