"""Which action an order's state allows, and what a well-formed request looks like.

Pure functions over domain objects: the service asks them first so the agent gets a
clear reason before anything is written; the store checks again under its lock, because
the order may change between the two.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from adapters.base import CAP_CANCEL, CAP_EDIT, CAP_REFUND, CAP_REISSUE, Order
from console.actions.text import status_word
from console.actions.text import t as _t

UNPAID = frozenset({"pending_payment", "expired"})
CLOSED = frozenset({"refunded", "cancelled", "expired"})
BEFORE_DELIVERY = frozenset({"pending_payment", "paid", "processing", "failed"})
REISSUABLE = frozenset({"paid", "processing", "failed", "after_sales", "delivered", "completed",
                        "partially_refunded"})
DIRECT_CATEGORIES = frozenset({"phone_topup", "data_topup", "game_topup"})
EDITABLE_FIELDS = ("recipient_account", "sku", "quantity", "remark")
AFTER_DELIVERY_OFFERS = ("reissue", "refund")
MAX_AMOUNT = Decimal("1000000.00")
MAX_TEXT = 2000


class Refusal(Exception):
    """The order's state forbids the action; ``code`` is the API's error code."""

    def __init__(self, code: str, message: str, offers: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.code, self.message, self.offers = code, message, offers


class Invalid(ValueError):
    """The request itself is malformed: a 400, and nothing is stored."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


# --- input ------------------------------------------------------------------------

def parse_amount(raw: object) -> Decimal:
    """A positive money amount with at most two decimals, from a string or number."""
    if isinstance(raw, bool) or raw is None or isinstance(raw, float):
        raise Invalid("invalid_amount", _t("The amount must be a string such as \"10.00\"."))
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation:
        raise Invalid("invalid_amount", _t("The amount must be a number such as \"10.00\".")) \
            from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise Invalid("invalid_amount", _t("The amount must be more than 0.00."))
    if amount != amount.quantize(Decimal("0.01")):
        raise Invalid("invalid_amount", _t("The amount may have at most two decimals."))
    return amount.quantize(Decimal("0.01"))


def clean_text(raw: object, field: str, required: bool = True, limit: int = MAX_TEXT) -> str:
    if raw is not None and not isinstance(raw, str):
        raise Invalid(f"invalid_{field}", _t("The %(field)s must be text.", field=field))
    text = (raw or "").strip()
    if required and not text:
        raise Invalid(f"{field}_required", _t("Give a %(field)s.", field=field))
    if len(text) > limit:
        raise Invalid(f"invalid_{field}", _t("The %(field)s may be at most %(limit)s characters.",
                                             field=field, limit=limit))
    return text


def clean_changes(raw: object) -> dict:
    """The fields an edit request may change, each of the right type."""
    if not isinstance(raw, Mapping) or not raw:
        raise Invalid("invalid_changes", _t("List at least one field to change."))
    unknown = sorted(set(raw) - set(EDITABLE_FIELDS))
    if unknown:
        raise Invalid("invalid_changes", _t("These fields cannot be changed: %(fields)s.",
                                            fields=", ".join(unknown)))
    changes: dict = {}
    for name in ("recipient_account", "sku", "remark"):
        if name in raw:
            value = raw[name]
            if not isinstance(value, str) or (name != "remark" and not value.strip()):
                raise Invalid("invalid_changes", _t("%(field)s must be non-empty text.",
                                                    field=name))
            changes[name] = value.strip()[:120 if name != "remark" else MAX_TEXT]
    if "quantity" in raw:
        value = raw["quantity"]
        if isinstance(value, bool) or not isinstance(value, (int, str)) \
                or not str(value).strip().isdigit() or not 1 <= int(value) <= 1000:
            raise Invalid("invalid_changes", _t("The quantity must be a whole number from 1 to "
                                                "1000."))
        changes["quantity"] = int(value)
    return changes


# --- order state ------------------------------------------------------------------

def delivered(order: Order) -> bool:
    return order.status not in BEFORE_DELIVERY or any(k.status == "delivered"
                                                      for k in order.card_keys)


def refusal_to_edit(order: Order) -> Refusal | None:
    if order.status in CLOSED:
        return Refusal("not_allowed", _t("Order %(order)s is %(status)s; it cannot be edited.",
                                         order=order.order_no, status=status_word(order.status)))
    if delivered(order):
        return Refusal("not_allowed", _t("Order %(order)s was already delivered, so editing it "
                                         "could deliver twice; reissue or refund instead.",
                                         order=order.order_no), AFTER_DELIVERY_OFFERS)
    return None


def refusal_to_refund(order: Order, amount: Decimal, left: Decimal) -> Refusal | None:
    if order.status in UNPAID or order.paid_at is None and order.status == "pending_payment":
        return Refusal("not_paid", _t("Order %(order)s has not been paid.",
                                      order=order.order_no))
    if order.status in CLOSED:
        return _closed(order)
    if amount > left:
        return Refusal("over_refund", _t("A refund of %(amount)s is more than the %(left)s left "
                                         "to refund on order %(order)s.", amount=f"{amount:.2f}",
                                         left=f"{left:.2f}", order=order.order_no))
    return None


def refusal_to_reissue(order: Order) -> Refusal | None:
    if order.status in UNPAID:
        return Refusal("not_paid", _t("Order %(order)s has not been paid.",
                                      order=order.order_no))
    if order.status not in REISSUABLE:
        return Refusal("not_allowed", _t("Order %(order)s is %(status)s; nothing can be "
                                         "reissued.", order=order.order_no, status=status_word(order.status)))
    if not order.card_keys and order.product.category in DIRECT_CATEGORIES:
        return Refusal("not_allowed", _t("%(product)s is topped up directly and has no card key "
                                         "to reissue; resend through the supplier or refund.",
                                         product=order.product.name), ("refund",))
    return None


def refusal_to_cancel(order: Order) -> Refusal | None:
    if order.status in CLOSED:
        return _closed(order)
    if delivered(order):
        return Refusal("not_allowed", _t("Order %(order)s was already delivered, so it cannot be "
                                         "cancelled; reissue or refund instead.",
                                         order=order.order_no), AFTER_DELIVERY_OFFERS)
    return None


def _closed(order: Order) -> Refusal:
    return Refusal("not_allowed", _t("Order %(order)s is already %(status)s.",
                                     order=order.order_no, status=status_word(order.status)))


def cancel_window_open(order: Order, now: datetime, minutes: int) -> bool:
    """The customer's own no-reason cancel: within ``minutes`` of paying (or unpaid)."""
    if order.paid_at is None:
        return order.status == "pending_payment"
    return now - order.paid_at <= timedelta(minutes=minutes)


def refundable(order: Order, console_refunded: Decimal = Decimal("0.00")) -> Decimal:
    """What is left to give back: paid minus refunded in the store and recorded by hand."""
    if order.status in UNPAID:
        return Decimal("0.00")
    return max(order.amount_paid - order.refunded_amount - console_refunded, Decimal("0.00"))


def unavailable_reasons(order: Order, capabilities: frozenset[str],
                        left: Decimal) -> dict[str, str]:
    """Why each action the panel greys out is unavailable, in the agent's words: the same
    refusal the service would give, or what the order store cannot do.  ``left`` is what
    may still be refunded (the service's figure, which counts refunds recorded by hand)."""
    refusals = {
        "edit": refusal_to_edit(order),
        "reissue": refusal_to_reissue(order),
        "refund": refusal_to_refund(order, Decimal("0.01"), left),
        "cancel": refusal_to_cancel(order),
    }
    missing = {
        "reissue": (CAP_REISSUE, _t("This order store cannot reissue card keys.")),
        "cancel": (CAP_CANCEL, _t("This order store cannot cancel orders.")),
    }
    reasons: dict[str, str] = {}
    for kind, refusal in refusals.items():
        if refusal is not None:
            reasons[kind] = refusal.message
        elif kind in missing and missing[kind][0] not in capabilities:
            reasons[kind] = missing[kind][1]
    if "refund" not in reasons and left <= 0:
        reasons["refund"] = _t("Nothing is left to refund on order %(order)s.",
                               order=order.order_no)
    return reasons


def available_actions(order: Order, capabilities: frozenset[str]) -> dict[str, bool]:
    """What the order panel offers; a refund is always offered (manual when the store
    cannot), the rest only when the store can do them."""
    return {
        "edit": refusal_to_edit(order) is None,
        "reissue": CAP_REISSUE in capabilities and refusal_to_reissue(order) is None,
        "refund": refusal_to_refund(order, Decimal("0.01"), refundable(order)) is None,
        "cancel": CAP_CANCEL in capabilities and refusal_to_cancel(order) is None,
        "manual_refund": CAP_REFUND not in capabilities,
        "store_edits": CAP_EDIT in capabilities,
    }
