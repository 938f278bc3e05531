"""The order JSONL codec: one order per line, as shared/DESIGN.md ("Order JSONL") fixes it.

Imports, exports and the demo generator meet here, so the rules are strict and each
refusal names the field and the reason (``quantity must be an integer, got 'two'``);
a shop owner fixing line 48,213 of an export needs to know exactly what is wrong.

Choices, so that other tools can rely on them:

* Money is a string such as ``"12.34"`` (what ``dump_*`` writes).  JSON integers and JSON
  decimal numbers are accepted too: ``parse_line`` reads numbers as ``Decimal`` straight
  from the text, never through a binary float, so ``98.5`` means exactly 98.50.  A
  Python ``float`` handed to ``parse_order`` goes through its shortest ``repr``.  Money
  may not be negative, may not carry more than two decimal places (nothing is rounded
  silently) and may not be written with an exponent, ``NaN`` or ``Infinity``.
* Times are ISO-8601 strings with a UTC offset (``Z`` allowed); naive times are refused
  because the shop's zone is unknowable here.  Every time is converted to UTC.
* Absent optional fields, JSON ``null`` and empty strings all become ``None``; absent lists
  become ``()``.  Unknown keys are ignored.  ``quantity`` defaults to 1, ``currency`` to CNY.
* ``discount``: an explicit ``"discount"`` wins; otherwise ``face_value * quantity -
  amount_paid`` when ``face_value`` is positive, floored at 0 (a price above face value is
  a fee, not a negative discount); otherwise 0.
* ``refunded_amount`` may not exceed ``amount_paid``.
* ``quantity`` is an integer from 1 to ``MAX_QUANTITY`` (``2.0`` from a careless exporter
  counts as 2); ``currency`` is 3-5 letters, upper-cased.
* Lines are UTF-8 (a leading BOM is tolerated); ``\\ud800``-style escapes without their
  pair are refused because no database can store the text they decode to.
* ``dump_*`` writes every key (``null`` when absent), compact separators, Chinese as is.
* ``product.face_value`` (optional) fills ``Product.face_value``; the top-level
  ``face_value`` fills ``Order.face_value``.  Neither is inferred from the other.
* A card key needs a non-empty ``secret``; ``serial`` may be absent (many shops store one
  string per key) and then reads as ``""``.
* ``read_jsonl`` keeps the first occurrence of an order number and reports later ones as
  errors; it only remembers order numbers of lines that parsed.

``parse_line(dump_line(order)) == order`` holds for every normalised order (UTC times,
optional strings ``None`` or non-empty), which is what ``parse_*`` always returns.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import IO, Any

import orjson

from adapters.base import (
    CARD_KEY_STATES,
    CATEGORIES,
    CENT,
    STATUSES,
    Buyer,
    CardKey,
    InvalidOrder,
    Order,
    OrderEvent,
    PaymentProof,
    Product,
)

__all__ = [
    "parse_order", "parse_line", "dump_order", "dump_line", "read_jsonl", "write_jsonl",
    "MAX_QUANTITY", "MAX_LINE_BYTES", "TEXT_LIMITS", "capped_lines",
]

MAX_QUANTITY = 2**31 - 1  # fits every SQL INTEGER column the stores use
MAX_LINE_BYTES = 256 * 1024  # a real order is a few KB; a 10 MB "order" is an attack
MAX_ITEMS = 200  # card keys, events or tags of one order
MAX_TEXT = 2000  # free text not listed below (remark, event detail)
# The reference schema's column sizes: longer text would be cut or refused by the database.
TEXT_LIMITS = {
    "order_no": 64, "product.sku": 64, "product.name": 200, "buyer.account": 120,
    "buyer.phone": 32, "buyer.email": 254, "recipient_account": 120, "buyer_ip": 45,
    "region": 40, "operator": 40, "supplier": 80, "search_password": 120,
    "payment.channel": 24, "payment.transaction_id": 80, "payment.payer": 120,
    "payment.proof_url": 2000, "serial": 120, "secret": 255, "kind": 32, "tags": 40,
}
ZERO = Decimal("0.00")
_PLAIN_MONEY = re.compile(r"(?:0|[1-9][0-9]{0,17})\.[0-9]{2}")
_MONEY_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_CURRENCY = re.compile(r"[A-Za-z]{3,5}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


# --- reading: small checkers, each naming the field it refuses --------------

def _show(value: object) -> str:
    """A short rendering of a bad value for an error message."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        text = str(value)
    else:
        text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _type_name(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             type(None): "null", int: "a number", float: "a number", Decimal: "a number"}
    return names.get(type(value), type(value).__name__)


def _obj(value: object, name: str) -> Mapping[str, Any]:
    if type(value) is dict:  # what json gives: skip the slow abstract-class check
        return value
    if not isinstance(value, Mapping):
        raise InvalidOrder(f"{name} must be an object, got {_type_name(value)}")
    return value


def _limit(name: str) -> int:
    """``card_keys[3].secret`` -> the limit of ``secret``; ``tags[0]`` -> of ``tags``."""
    limit = _LIMIT_OF.get(name)
    if limit is None:
        if name in TEXT_LIMITS:
            limit = TEXT_LIMITS[name]
        else:
            last = name.rsplit(".", 1)[-1].split("[", 1)[0]
            limit = TEXT_LIMITS.get(last, MAX_TEXT)
        if len(_LIMIT_OF) < 4096:  # names are few (field paths); a bound all the same
            _LIMIT_OF[name] = limit
    return limit


_LIMIT_OF: dict[str, int] = {}


def _text(value: object, name: str, required: bool = False) -> str | None:
    """A string field; empty or null reads as absent.  NUL characters and text longer than
    the field's column (``TEXT_LIMITS``) are refused."""
    if type(value) is str and value and len(value) <= _limit(name) and "\x00" not in value \
            and not (required and value.isspace()):
        return value  # the common case, decided without the checks below
    if value is None or value == "":
        if required:
            raise InvalidOrder(f"{name} is missing" if value is None else f"{name} is empty")
        return None
    if not isinstance(value, str):
        raise InvalidOrder(f"{name} must be a string, got {_type_name(value)} {_show(value)}")
    if required and not value.strip():
        raise InvalidOrder(f"{name} is empty")
    if "\x00" in value:
        raise InvalidOrder(f"{name} contains a NUL character")
    if len(value) > _limit(name):
        raise InvalidOrder(f"{name} is too long: {len(value)} characters, at most "
                           f"{_limit(name)}")
    return value


def _choice(value: object, name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
    if type(value) is str and value in allowed:
        return value
    if value is None and default is not None:
        return default
    text = _text(value, name, required=True)
    if text not in allowed:
        raise InvalidOrder(f"{name} {text!r} is not one of: {', '.join(allowed)}")
    return text


def _money(value: object, name: str) -> Decimal:
    """Two-place money from a string or a JSON number; never rounds, never negative."""
    if type(value) is str and _PLAIN_MONEY.fullmatch(value):
        return Decimal(value)  # what dump_* writes: exact already, nothing to check
    if isinstance(value, bool) or value is None:
        raise InvalidOrder(f"{name} must be money like \"12.34\", got {_type_name(value)}")
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, str):
        text = value.strip()
        if not _MONEY_TEXT.fullmatch(text):
            raise InvalidOrder(f"{name} must be money like \"12.34\", got {_show(value)}")
        amount = Decimal(text)
    elif isinstance(value, (int, Decimal)):
        amount = Decimal(value)
        if not amount.is_finite():
            raise InvalidOrder(f"{name} must be a finite amount, got {value}")
    else:
        raise InvalidOrder(f"{name} must be money like \"12.34\", got {_type_name(value)}")
    if amount < 0:
        raise InvalidOrder(f"{name} must not be negative, got {_show(value)}")
    try:
        exact = amount.quantize(CENT)
    except InvalidOperation:
        raise InvalidOrder(f"{name} is too large: {_show(value)}") from None
    if exact != amount:
        raise InvalidOrder(f"{name} has more than two decimal places: {_show(value)}")
    return exact if exact else ZERO  # turns -0.00 into 0.00


def _opt_money(value: object, name: str) -> Decimal | None:
    return None if value is None or value == "" else _money(value, name)


def _time(value: object, name: str) -> datetime:
    """An aware ISO-8601 time, returned in UTC."""
    if type(value) is str:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass  # maybe padded with spaces; the checks below say what is wrong
        else:
            if moment.tzinfo is timezone.utc:
                return moment  # what dump_* writes: UTC already
    if value is None or value == "":
        raise InvalidOrder(f"{name} is missing")
    if not isinstance(value, str):
        raise InvalidOrder(f"{name} must be an ISO-8601 string, got {_type_name(value)} {_show(value)}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidOrder(f"{name} is not an ISO-8601 time: {_show(value)}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidOrder(f"{name} has no UTC offset: {_show(value)}")
    return moment.astimezone(timezone.utc)


def _opt_time(value: object, name: str) -> datetime | None:
    return None if value is None or value == "" else _time(value, name)


def _quantity(value: object) -> int:
    if value is None:
        return 1
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)  # 2.0 written by a careless exporter is still two
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidOrder(f"quantity must be an integer, got {_type_name(value)} {_show(value)}")
    if value < 1:
        raise InvalidOrder(f"quantity must be at least 1, got {value}")
    if value > MAX_QUANTITY:
        raise InvalidOrder(f"quantity is too large: {value}")
    return value


def _list(value: object, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidOrder(f"{name} must be a list, got {_type_name(value)}")
    if len(value) > MAX_ITEMS:
        raise InvalidOrder(f"{name} has too many items: {len(value)}, at most {MAX_ITEMS}")
    return value


# --- reading: the parts of an order ----------------------------------------

def _product(value: object) -> Product:
    data = _obj(value, "product")
    return Product(
        sku=_text(data.get("sku"), "product.sku", required=True),  # type: ignore[arg-type]
        name=_text(data.get("name"), "product.name", required=True),  # type: ignore[arg-type]
        category=_choice(data.get("category"), "product.category", CATEGORIES),
        face_value=_opt_money(data.get("face_value"), "product.face_value"),
    )


def _buyer(value: object) -> Buyer:
    if value is None:
        return Buyer()
    data = _obj(value, "buyer")
    return Buyer(
        account=_text(data.get("account"), "buyer.account"),
        phone=_text(data.get("phone"), "buyer.phone"),
        email=_text(data.get("email"), "buyer.email"),
    )


def _payment(value: object) -> PaymentProof | None:
    if value is None:
        return None
    data = _obj(value, "payment")
    return PaymentProof(
        channel=_text(data.get("channel"), "payment.channel", required=True),  # type: ignore[arg-type]
        transaction_id=_text(data.get("transaction_id"), "payment.transaction_id"),
        payer=_text(data.get("payer"), "payment.payer"),
        amount=_opt_money(data.get("amount"), "payment.amount"),
        paid_at=_opt_time(data.get("paid_at"), "payment.paid_at"),
        proof_url=_text(data.get("proof_url"), "payment.proof_url"),
    )


def _item_names(items: str, fields: tuple[str, ...]) -> list[tuple[str, ...]]:
    """``("card_keys[3]", "card_keys[3].serial", ...)`` for every index, made once: an
    import reads millions of items and would otherwise spell each name out anew."""
    return [(f"{items}[{i}]", *(f"{items}[{i}].{f}" for f in fields)) for i in range(MAX_ITEMS)]


_KEY_NAMES = _item_names("card_keys", ("serial", "secret", "status", "delivered_at"))
_EVENT_NAMES = _item_names("events", ("at", "kind", "detail"))


def _card_key(value: object, index: int) -> CardKey:
    name, serial, secret, status, delivered_at = _KEY_NAMES[index]
    data = _obj(value, name)
    return CardKey(
        serial=_text(data.get("serial"), serial) or "",
        secret=_text(data.get("secret"), secret, required=True),  # type: ignore[arg-type]
        status=_choice(data.get("status"), status, CARD_KEY_STATES, default="delivered"),
        delivered_at=_opt_time(data.get("delivered_at"), delivered_at),
    )


def _event(value: object, index: int) -> OrderEvent:
    name, at, kind, detail = _EVENT_NAMES[index]
    data = _obj(value, name)
    return OrderEvent(
        at=_time(data.get("at"), at),
        kind=_text(data.get("kind"), kind, required=True),  # type: ignore[arg-type]
        detail=_text(data.get("detail"), detail) or "",
    )


def _tags(value: object) -> tuple[str, ...]:
    return tuple(_text(tag, f"tags[{i}]", required=True)  # type: ignore[misc]
                 for i, tag in enumerate(_list(value, "tags")))


def _currency(value: object) -> str:
    text = _text(value, "currency")
    if text is None:
        return "CNY"
    if not _CURRENCY.fullmatch(text):
        raise InvalidOrder(f"currency must be a code like \"CNY\", got {_show(value)}")
    return text.upper()


def _discount(data: Mapping[str, Any], face_value: Decimal | None, quantity: int,
              amount_paid: Decimal) -> Decimal:
    explicit = data.get("discount")
    if explicit is not None and explicit != "":
        return _money(explicit, "discount")
    if face_value is None or face_value <= 0:
        return ZERO
    return max(face_value * quantity - amount_paid, ZERO)


def parse_order(data: object) -> Order:
    """Build an ``Order`` from one decoded JSONL record, refusing anything off-schema."""
    data = _obj(data, "order")
    order_no = _text(data.get("order_no"), "order_no", required=True)
    quantity = _quantity(data.get("quantity"))
    amount_paid = _money(_required(data, "amount_paid"), "amount_paid")
    face_value = _opt_money(data.get("face_value"), "face_value")
    refunded = _opt_money(data.get("refunded_amount"), "refunded_amount") or ZERO
    if refunded > amount_paid:
        raise InvalidOrder(f"refunded_amount {refunded} exceeds amount_paid {amount_paid}")
    return Order(
        order_no=order_no,  # type: ignore[arg-type]
        status=_choice(data.get("status"), "status", STATUSES),
        created_at=_time(data.get("created_at"), "created_at"),
        product=_product(_required(data, "product")),
        quantity=quantity,
        amount_paid=amount_paid,
        currency=_currency(data.get("currency")),
        face_value=face_value,
        discount=_discount(data, face_value, quantity, amount_paid),
        refunded_amount=refunded,
        paid_at=_opt_time(data.get("paid_at"), "paid_at"),
        updated_at=_opt_time(data.get("updated_at"), "updated_at"),
        buyer=_buyer(data.get("buyer")),
        recipient_account=_text(data.get("recipient_account"), "recipient_account"),
        buyer_ip=_text(data.get("buyer_ip"), "buyer_ip"),
        region=_text(data.get("region"), "region"),
        operator=_text(data.get("operator"), "operator"),
        supplier=_text(data.get("supplier"), "supplier"),
        payment=_payment(data.get("payment")),
        card_keys=tuple(_card_key(k, i)
                        for i, k in enumerate(_list(data.get("card_keys"), "card_keys"))),
        events=tuple(_event(e, i) for i, e in enumerate(_list(data.get("events"), "events"))),
        remark=_text(data.get("remark"), "remark"),
        tags=_tags(data.get("tags")),
        search_password=_text(data.get("search_password"), "search_password"),
    )


def _required(data: Mapping[str, Any], key: str) -> Any:
    value = data.get(key)
    if value is None:
        raise InvalidOrder(f"{key} is missing")
    return value


def _refuse_constant(name: str) -> Any:
    raise InvalidOrder(f"malformed JSON: {name} is not allowed")


def parse_line(line: str | bytes) -> Order:
    """Decode one JSONL line (UTF-8 bytes or text) into an ``Order``."""
    if len(line) > MAX_LINE_BYTES:
        raise InvalidOrder(f"line is too long: more than {MAX_LINE_BYTES:,} bytes")
    if isinstance(line, (bytes, bytearray)):
        try:
            line = bytes(line).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidOrder(f"line is not valid UTF-8 (bad byte at position {exc.start})") from None
    text = line.lstrip("\ufeff").strip()
    if not text:
        raise InvalidOrder("line is empty")
    data = _fast_decode(text)
    if data is not None:
        return parse_order(data)
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise InvalidOrder(f"malformed JSON: {exc.msg} at column {exc.colno}") from None
    except (RecursionError, ValueError) as exc:
        raise InvalidOrder(f"malformed JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidOrder(f"line is not a JSON object, got {_type_name(data)}")
    if _SURROGATE_ESCAPE.search(text):
        _refuse_lone_surrogates(data)
    return parse_order(data)


def _fast_decode(text: str) -> dict[str, Any] | None:
    """The line decoded by orjson (several times faster than ``json``), or None when the
    standard decoder must read it: orjson has no ``parse_float`` and would hand over a
    binary float, and its error messages are not ours.  So anything but an object whose
    numbers are all integers goes the careful way, as does a lone surrogate escape."""
    if _SURROGATE_ESCAPE.search(text):
        return None
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict or _holds_float(data):
        return None
    return data


def _holds_float(value: object) -> bool:
    if type(value) is float:
        return True
    if type(value) is dict:
        return any(_holds_float(v) for v in value.values() if type(v) in _NESTED)
    if type(value) is list:
        return any(_holds_float(v) for v in value if type(v) in _NESTED)
    return False


_NESTED = (float, dict, list)


def _refuse_lone_surrogates(data: object) -> None:
    """A ``\\ud800`` escape without its pair decodes to text no database can store."""
    try:
        json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidOrder("malformed JSON: unpaired UTF-16 surrogate escape") from None


# --- writing ---------------------------------------------------------------

def _m(value: Decimal | None) -> str | None:
    return None if value is None else format(value.quantize(CENT), "f")


def _t(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def dump_order(order: Order) -> dict[str, Any]:
    """The JSON-ready record of an order: money as strings, times ISO-8601 with offset."""
    product = order.product
    payment = order.payment
    return {
        "order_no": order.order_no,
        "status": order.status,
        "created_at": _t(order.created_at),
        "paid_at": _t(order.paid_at),
        "updated_at": _t(order.updated_at),
        "product": {"sku": product.sku, "name": product.name, "category": product.category,
                    "face_value": _m(product.face_value)},
        "quantity": order.quantity,
        "face_value": _m(order.face_value),
        "amount_paid": _m(order.amount_paid),
        "discount": _m(order.discount),
        "refunded_amount": _m(order.refunded_amount),
        "currency": order.currency,
        "buyer": {"account": order.buyer.account, "phone": order.buyer.phone,
                  "email": order.buyer.email},
        "recipient_account": order.recipient_account,
        "buyer_ip": order.buyer_ip,
        "region": order.region,
        "operator": order.operator,
        "supplier": order.supplier,
        "payment": None if payment is None else {
            "channel": payment.channel, "transaction_id": payment.transaction_id,
            "payer": payment.payer, "amount": _m(payment.amount),
            "paid_at": _t(payment.paid_at), "proof_url": payment.proof_url,
        },
        "card_keys": [{"serial": k.serial, "secret": k.secret, "status": k.status,
                       "delivered_at": _t(k.delivered_at)} for k in order.card_keys],
        "events": [{"at": _t(e.at), "kind": e.kind, "detail": e.detail} for e in order.events],
        "remark": order.remark,
        "tags": list(order.tags),
        "search_password": order.search_password,
    }


def dump_line(order: Order) -> str:
    """One JSONL line (without the newline), UTF-8 friendly: Chinese stays readable."""
    return json.dumps(dump_order(order), ensure_ascii=False, separators=(",", ":"))


# --- files -----------------------------------------------------------------

def _lines(source: str | os.PathLike[str] | IO[Any] | Iterable[bytes]
           ) -> Iterator[bytes | str]:
    """Lines of a path, or of an open file; from a path a line is never held whole past
    ``MAX_LINE_BYTES`` (its start stands for it, and ``parse_line`` refuses it)."""
    if not isinstance(source, (str, os.PathLike)):
        yield from source
        return
    with open(source, "rb") as handle:
        yield from capped_lines(handle)


def capped_lines(handle: IO[bytes]) -> Iterator[bytes]:
    """The lines of a binary file, none held whole past ``MAX_LINE_BYTES``."""
    while True:
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (rest := handle.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass
        yield line


def read_jsonl(source: str | os.PathLike[str] | IO[Any] | Iterable[bytes]
               ) -> Iterator[tuple[int, Order | InvalidOrder]]:
    """Stream ``(line_number, order or error)`` from a path or an open file, one line at a time.

    Paths are opened in binary mode so that a bad byte spoils one line, not the file.
    Blank lines are skipped but still counted.  A repeated order number is an error on
    the later line; the first one stands.
    """
    first_seen: dict[str, int] = {}
    for number, raw in enumerate(_lines(source), start=1):
        if not raw.strip():
            continue
        try:
            order = parse_line(raw)
        except InvalidOrder as error:
            yield number, error
            continue
        seen_on = first_seen.setdefault(order.order_no, number)
        if seen_on != number:
            yield number, InvalidOrder(
                f"duplicate order_no {order.order_no}, first seen on line {seen_on}")
            continue
        yield number, order


def write_jsonl(orders: Iterable[Order], target: str | os.PathLike[str] | IO[bytes]) -> int:
    """Write orders as UTF-8 JSONL to a path or a binary file; returns how many were written."""
    if isinstance(target, (str, os.PathLike)):
        with open(target, "wb") as handle:
            return write_jsonl(orders, handle)
    count = 0
    for order in orders:
        target.write(dump_line(order).encode("utf-8") + b"\n")
        count += 1
    return count
