"""What the search index holds for one order, computed in Python from the order's values.

The loader (and its worker processes) compute these rows straight from the orders
being loaded; ``retrieval.refresh_search_index`` computes them from the stored rows
of changed orders.  Both go through these functions, so an order is indexed the same
way whichever path wrote it.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

SECRET_MIN = 8  # shorter secrets are not worth an exact lookup

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_PHONE_SEPARATORS = re.compile(r"[\s-]")


def normalise_code(text: str) -> str:
    """Letters and digits only, upper case: how card-key serials and secrets are compared."""
    return _NON_ALNUM.sub("", text).upper()


def phone_tail(value: str | None) -> str | None:
    """The last four digits of a Chinese mobile number (with or without +86), else None."""
    if not value:
        return None
    match = _MOBILE.match(_PHONE_SEPARATORS.sub("", value))
    return match.group(1)[-4:] if match else None


def secret_digest(secret: str) -> str:
    """How a whole card secret is looked up: letters and digits only, upper case, hashed."""
    return hashlib.sha256(normalise_code(secret).encode()).hexdigest()[:32]


def search_body(order_no: str, email: str | None, phone: str | None, account: str | None,
                recipient: str | None, transaction_id: str | None, payer: str | None,
                serials: Iterable[str]) -> str:
    """The text substrings are matched against: identifiers a customer may quote in part
    (never a card secret: three characters at a time anyone could spell a key out)."""
    return " ".join((order_no, email or "", phone or "", account or "", recipient or "",
                     transaction_id or "", payer or "", " ".join(s for s in serials if s)))


def key_body(keys: Iterable[tuple[str, str]]) -> str:
    """Each key's serial and secret, normalised, apart (a piece never spans two)."""
    parts: list[str] = []
    for serial, secret in keys:
        for part in (normalise_code(serial or ""), normalise_code(secret or "")):
            if part and part not in parts:
                parts.append(part)
    return " ".join(parts)


def phone_tails(phone: str | None, recipient: str | None) -> tuple[str, ...]:
    """The tails of every phone an order involves: the buyer's and the one topped up."""
    found = (phone_tail(phone), phone_tail(recipient))
    return tuple(dict.fromkeys(t for t in found if t))


def secret_digests(secrets: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(secret_digest(s) for s in secrets
                               if len(_NON_ALNUM.sub("", s)) >= SECRET_MIN))
