"""Unmasking a buyer's contact or a card-key secret, each time on the record.

The console masks contacts and secrets everywhere; an agent who needs one asks for it
and the audit trail keeps who, when and what.  The record is committed *before* the
value is returned, so no secret ever leaves without its audit entry.  Secrets themselves
are never written to the audit trail.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from adapters.base import Buyer, CardKey, OrderStore
from console import audit
from console.extensions import db
from console.models import User

REVEAL_CONTACT = "reveal_contact"
REVEAL_KEY = "reveal_key"


class RevealError(LookupError):
    """What was asked for cannot be revealed; ``code`` and ``status`` go to the API client."""

    code = "reveal_error"
    status = 400


class CardKeyNotFound(RevealError):
    """The order has no card key with that serial (or at that position)."""

    code = "card_key_not_found"
    status = 404


class AmbiguousSerial(RevealError):
    """Several card keys share the serial; the position in the delivery log is needed."""

    code = "ambiguous_serial"
    status = 409


@dataclass(frozen=True)
class RevealedKey:
    index: int
    key: CardKey


def _session(session: Session | None) -> Session:
    return session if session is not None else db.session


def reveal_contact(store: OrderStore, order_no: str, actor: User, via: str = "reveal",
                   session: Session | None = None, reason: str | None = None) -> Buyer:
    """The buyer's unmasked contact; audited as ``reveal_contact`` with the fields shown."""
    buyer = store.get(order_no).buyer
    fields = [name for name in ("phone", "email") if getattr(buyer, name)]
    audit.record(REVEAL_CONTACT, actor=actor, order_no=order_no, what="contact",
                 fields=fields, via=via, reason=reason)
    _session(session).commit()
    return buyer


def find_key(keys: tuple[CardKey, ...], serial: str | None, index: int | None) -> RevealedKey:
    """Pick one key by serial and/or position; both given must agree."""
    if index is not None:
        if not 0 <= index < len(keys) or (serial is not None and keys[index].serial != serial):
            raise CardKeyNotFound("this order has no such card key")
        return RevealedKey(index, keys[index])
    matches = [i for i, key in enumerate(keys) if key.serial == serial]
    if not matches:
        raise CardKeyNotFound("this order has no card key with that serial")
    if len(matches) > 1:
        raise AmbiguousSerial("several card keys share this serial; give its index too")
    return RevealedKey(matches[0], keys[matches[0]])


def reveal_key(store: OrderStore, order_no: str, actor: User, serial: str | None = None,
               index: int | None = None, session: Session | None = None,
               reason: str | None = None, via: str = "reveal") -> RevealedKey:
    """One card key with its secret; audited as ``reveal_key`` with serial and position."""
    if serial is None and index is None:
        raise RevealError("say which card key: its serial or its index")
    found = find_key(store.get(order_no).card_keys, serial, index)
    audit.record(REVEAL_KEY, actor=actor, order_no=order_no, what="key",
                 serial=found.key.serial, index=found.index, key_status=found.key.status,
                 reason=reason, via=via)
    _session(session).commit()
    return found
