"""The JSON shapes of the shop API (docs/shop-api.openapi.yaml), both ways.

Orders travel in the order JSONL schema (``adapters.orders_jsonl``), so a shop that can
export orders for ``kamidesk import-orders`` already speaks most of this API.  Queries
travel field by field; a side that does not know a field ignores it, so either side may
learn new ``SearchQuery`` fields first.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from adapters.base import (
    Buyer,
    Candidate,
    Conflict,
    Contact,
    InvalidOrder,
    NotAllowed,
    NotPaid,
    OrderChange,
    OrderNotFound,
    OrderSummary,
    OutOfStock,
    OverRefund,
    Product,
    RelatedCounts,
    SearchQuery,
    StoreError,
    StoreUnavailable,
    money,
)
from adapters.orders_jsonl import dump_order, parse_order

__all__ = [
    "dump_order", "parse_order", "dump_query", "parse_query", "dump_summary", "parse_summary",
    "dump_candidate", "parse_candidate", "dump_change", "parse_change", "dump_product",
    "parse_product", "dump_contact", "parse_contact", "dump_related", "parse_related",
    "error_body", "error_from", "ERROR_STATUS",
]

# error code -> HTTP status the shop answers with
ERROR_STATUS: dict[str, int] = {
    "order_not_found": 404, "not_allowed": 409, "not_paid": 409, "over_refund": 409,
    "out_of_stock": 409, "conflict": 409, "invalid_order": 400, "store_unavailable": 503,
}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(value: object) -> datetime | None:
    return None if value in (None, "") else datetime.fromisoformat(str(value))


def dump_query(query: SearchQuery) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in dataclasses.fields(query):
        value = getattr(query, spec.name)
        if isinstance(value, frozenset):
            value = sorted(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Decimal):
            value = format(value, "f")
        elif isinstance(value, datetime):
            value = value.isoformat()
        out[spec.name] = value
    return out


def parse_query(data: Mapping[str, Any]) -> SearchQuery:
    """Known fields by their declared type; unknown fields are ignored."""
    values: dict[str, Any] = {}
    for spec in dataclasses.fields(SearchQuery):
        if spec.name not in data or data[spec.name] is None:
            continue
        raw, kind = data[spec.name], str(spec.type)
        if kind.startswith("frozenset"):
            values[spec.name] = frozenset(str(v) for v in raw)
        elif kind.startswith("tuple"):
            values[spec.name] = tuple(str(v) for v in raw)
        elif "Decimal" in kind:
            values[spec.name] = Decimal(str(raw))
        elif "datetime" in kind:
            values[spec.name] = _time(raw)
        elif kind == "int":
            values[spec.name] = int(raw)
        else:
            values[spec.name] = raw
    return SearchQuery(**values)


def _dump_buyer(buyer: Buyer) -> dict[str, Any]:
    return {"account": buyer.account, "phone": buyer.phone, "email": buyer.email}


def dump_summary(summary: OrderSummary) -> dict[str, Any]:
    return {
        "order_no": summary.order_no, "status": summary.status,
        "created_at": _iso(summary.created_at), "product_name": summary.product_name,
        "category": summary.category, "amount_paid": format(summary.amount_paid, "f"),
        "quantity": summary.quantity, "sku": summary.sku, "buyer": _dump_buyer(summary.buyer),
        "recipient_account": summary.recipient_account, "buyer_ip": summary.buyer_ip,
        "transaction_id": summary.transaction_id,
    }


def parse_summary(data: Mapping[str, Any]) -> OrderSummary:
    buyer = data.get("buyer") or {}
    return OrderSummary(
        order_no=str(data["order_no"]), status=str(data["status"]),
        created_at=_time(data["created_at"]),  # type: ignore[arg-type]
        product_name=str(data.get("product_name") or ""),
        category=str(data.get("category") or "other"),
        amount_paid=money(data["amount_paid"]), quantity=int(data.get("quantity") or 1),
        sku=data.get("sku"),
        buyer=Buyer(account=buyer.get("account"), phone=buyer.get("phone"),
                    email=buyer.get("email")),
        recipient_account=data.get("recipient_account"), buyer_ip=data.get("buyer_ip"),
        transaction_id=data.get("transaction_id"))


def dump_candidate(candidate: Candidate) -> dict[str, Any]:
    return {"order": dump_summary(candidate.summary), "hits": sorted(candidate.hits)}


def parse_candidate(data: Mapping[str, Any]) -> Candidate:
    return Candidate(parse_summary(data["order"]), frozenset(data.get("hits") or ()))


CHANGE_EXTRAS = ("category", "supplier", "operator", "region")  # optional, None: ask get


def dump_change(change: OrderChange) -> dict[str, Any]:
    out = {"order_no": change.order_no, "status": change.status, "at": _iso(change.at)}
    out.update({name: getattr(change, name) for name in CHANGE_EXTRAS
                if getattr(change, name) is not None})
    return out


def parse_change(data: Mapping[str, Any]) -> OrderChange:
    extras = {name: str(data[name]) for name in CHANGE_EXTRAS if data.get(name) is not None}
    return OrderChange(str(data["order_no"]), str(data["status"]),
                       _time(data["at"]), **extras)  # type: ignore[arg-type]


def dump_product(product: Product) -> dict[str, Any]:
    face = product.face_value
    return {"sku": product.sku, "name": product.name, "category": product.category,
            "face_value": None if face is None else format(face, "f")}


def parse_product(data: Mapping[str, Any]) -> Product:
    face = data.get("face_value")
    return Product(sku=str(data["sku"]), name=str(data["name"]),
                   category=str(data.get("category") or "other"),
                   face_value=None if face is None else money(face))


def dump_contact(contact: Contact) -> dict[str, Any]:
    return {"account": contact.account, "phone": contact.phone, "email": contact.email}


def parse_contact(data: Mapping[str, Any]) -> Contact:
    return Contact(account=data.get("account"), phone=data.get("phone"),
                   email=data.get("email"))


def dump_related(related: RelatedCounts) -> dict[str, Any]:
    return {"same_ip": related.same_ip, "same_buyer": related.same_buyer}


def parse_related(data: Mapping[str, Any]) -> RelatedCounts:
    return RelatedCounts(same_ip=int(data.get("same_ip") or 0),
                         same_buyer=int(data.get("same_buyer") or 0))


def error_body(exc: StoreError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
    for extra in ("order_no", "sku"):
        if hasattr(exc, extra):
            body[extra] = getattr(exc, extra)
    return {"error": body}


def error_from(body: Mapping[str, Any], order_no: str | None = None) -> StoreError:
    """The typed error for a shop's ``{"error": {"code", "message"}}`` answer."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return StoreUnavailable("the shop API answered an error without an error body")
    code, message = str(error.get("code") or ""), str(error.get("message") or "")
    if code == "order_not_found":
        return OrderNotFound(str(error.get("order_no") or order_no or "?"))
    if code == "out_of_stock":
        return OutOfStock(str(error.get("sku") or "?"))
    simple: dict[str, type[StoreError]] = {
        "not_paid": NotPaid, "over_refund": OverRefund, "not_allowed": NotAllowed,
    }
    if code in simple:
        return simple[code](message or code)
    if code == "conflict":
        return Conflict(message)
    if code == "invalid_order":
        return InvalidOrder(message)
    if code == "store_unavailable":
        return StoreUnavailable(message)
    return NotAllowed(f"the shop refused: {message or code}")
