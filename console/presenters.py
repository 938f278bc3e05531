"""Domain objects as the console shows them: JSON-ready, secrets and contacts masked."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from adapters.base import CardKey, Order, OrderSummary, masked
from console.pii import mask_contact, mask_email, mask_phone, mask_text


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def card_key_json(key: CardKey, reveal: bool = False) -> dict:
    return {"serial": key.serial, "secret": key.secret if reveal else masked(key.secret),
            "secret_masked": not reveal, "status": key.status,
            "delivered_at": iso(key.delivered_at)}


def summary_json(summary: OrderSummary) -> dict:
    """An order as lists show it: contacts, and accounts that are phones or emails, masked."""
    return {
        "order_no": summary.order_no, "status": summary.status,
        "product_name": summary.product_name, "category": summary.category,
        "sku": summary.sku, "quantity": summary.quantity,
        "amount_paid": money(summary.amount_paid), "created_at": iso(summary.created_at),
        "buyer": {"account": mask_text(summary.buyer.account),
                  "phone": mask_phone(summary.buyer.phone),
                  "email": mask_email(summary.buyer.email)},
        "recipient_account": mask_text(summary.recipient_account),
    }


def order_json(order: Order, reveal_contact: bool = False) -> dict:
    """The full order; card-key secrets are always masked here (reveals go through an
    audited endpoint), contacts unless ``reveal_contact``."""
    buyer = order.buyer
    payment = order.payment
    return {
        "order_no": order.order_no, "status": order.status,
        "created_at": iso(order.created_at), "paid_at": iso(order.paid_at),
        "updated_at": iso(order.updated_at),
        "product": {"sku": order.product.sku, "name": order.product.name,
                    "category": order.product.category,
                    "face_value": money(order.product.face_value)},
        "quantity": order.quantity, "face_value": money(order.face_value),
        "amount_paid": money(order.amount_paid), "discount": money(order.discount),
        "refunded_amount": money(order.refunded_amount), "currency": order.currency,
        "buyer": {
            "account": buyer.account if reveal_contact else mask_contact(buyer.account),
            "phone": buyer.phone if reveal_contact else mask_phone(buyer.phone),
            "email": buyer.email if reveal_contact else mask_email(buyer.email),
            "masked": not reveal_contact,
        },
        # a phone top-up's recipient is a phone: masked like one (the reveal shows it)
        "recipient_account": order.recipient_account if reveal_contact
        else mask_contact(order.recipient_account), "buyer_ip": order.buyer_ip,
        "region": order.region, "operator": order.operator, "supplier": order.supplier,
        "payment": None if payment is None else {
            "channel": payment.channel, "transaction_id": payment.transaction_id,
            "payer": payment.payer if reveal_contact else mask_contact(payment.payer),
            "amount": money(payment.amount),
            "paid_at": iso(payment.paid_at), "proof_url": payment.proof_url,
        },
        "card_keys": [card_key_json(k) for k in order.card_keys],
        "events": [{"at": iso(e.at), "kind": e.kind, "detail": e.detail} for e in order.events],
        "remark": order.remark, "tags": list(order.tags),
    }
