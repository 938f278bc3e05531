"""How a shop signs a webhook delivery, and the check (pure: no Flask, no database).

The shop sends three headers with the raw JSON body:

* ``X-Kamidesk-Timestamp``: Unix seconds when it signed;
* ``X-Kamidesk-Nonce``: 16-128 characters of ``[A-Za-z0-9_-]``, new for every delivery;
* ``X-Kamidesk-Signature``: ``sha256=`` and the hex HMAC-SHA256, keyed with
  ``KAMIDESK_WEBHOOK_SECRET``, of ``"<timestamp>.<nonce>."`` followed by the body bytes.

A delivery older or newer than ``WINDOW`` seconds is refused, and the console remembers
nonces for longer than that, so a captured delivery cannot be played again.
"""
from __future__ import annotations

import hashlib
import hmac
import re

WINDOW = 300  # seconds a signed delivery stays valid
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


class BadDelivery(Exception):
    """A delivery that fails the check; ``code`` goes to the shop."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def sign(secret: str, timestamp: int | str, nonce: str, body: bytes) -> str:
    """The ``X-Kamidesk-Signature`` value a shop sends (used by shops' code and tests)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{nonce}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str | None, nonce: str | None, signature: str | None,
           body: bytes, now: float) -> int:
    """The delivery's timestamp when the signature and the time window hold, else BadDelivery."""
    if not timestamp or not nonce or not signature:
        raise BadDelivery("unsigned", "X-Kamidesk-Timestamp, X-Kamidesk-Nonce and "
                          "X-Kamidesk-Signature are required")
    if not NONCE.match(nonce):
        raise BadDelivery("bad_nonce", "the nonce must be 16 to 128 letters, digits, - or _")
    try:
        stamp = int(timestamp)
    except ValueError:
        raise BadDelivery("bad_timestamp", "the timestamp must be Unix seconds") from None
    if not hmac.compare_digest(sign(secret, timestamp, nonce, body), signature.strip()):
        raise BadDelivery("bad_signature", "the signature does not match this body")
    if abs(now - stamp) > WINDOW:
        raise BadDelivery("stale_timestamp", f"the delivery was signed more than {WINDOW} s "
                          "from now; check the shop's clock")
    return stamp
