"""Who a widget customer is: shop-signed identities and the widget's own tokens.

A shop that knows its signed-in customer signs ``user_id``, ``email``, ``phone`` and a
Unix timestamp with ``KAMIDESK_WIDGET_SECRET`` (HMAC-SHA256, lowercase hex) so agents can
trust who they talk to.  The signed text is the four values joined by newlines, in that
order, missing values as empty strings::

    canonical = f"{user_id}\\n{email}\\n{phone}\\n{ts}"
    signature = hmac.new(secret, canonical.encode(), "sha256").hexdigest()

A signature older (or newer) than ``MAX_SKEW_SECONDS`` is refused, so a copied widget
snippet stops working on its own.  Nothing here touches Flask or the database.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

MAX_SKEW_SECONDS = 600
TOKEN_MAX_AGE_SECONDS = 30 * 24 * 3600
_TOKEN_SALT = "kamidesk.widget"


class IdentityError(Exception):
    """A signed identity that must be refused; ``code`` is the API error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class CustomerIdentity:
    user_id: str | None = None
    email: str | None = None
    phone: str | None = None


def canonical(user_id: str | None, email: str | None, phone: str | None, ts: int | str) -> str:
    """The exact text a shop signs; the order and separators are part of the contract."""
    return "\n".join(str(v) if v is not None else "" for v in (user_id, email, phone, ts))


def sign_identity(secret: str, user_id: str | None = None, email: str | None = None,
                  phone: str | None = None, ts: int = 0) -> str:
    """What a shop's backend does (here for tests, examples and the demo)."""
    return hmac.new(secret.encode(), canonical(user_id, email, phone, ts).encode(),
                    hashlib.sha256).hexdigest()


def verify_identity(secret: str | None, payload: dict, now: float) -> CustomerIdentity:
    """Check a shop-signed identity; raise IdentityError naming what is wrong."""
    if not secret:
        raise IdentityError("identity_not_configured",
                            "This console has no widget secret, so signed identities are refused.")
    signature = str(payload.get("signature") or "")
    try:
        ts = int(payload.get("ts"))  # type: ignore[arg-type]  # None raises TypeError here
    except (TypeError, ValueError):
        raise IdentityError("invalid_signature", "The identity has no valid timestamp.") from None
    user_id, email, phone = (_clean(payload.get(k)) for k in ("user_id", "email", "phone"))
    expected = sign_identity(secret, user_id, email, phone, ts=ts)
    # compare before looking at the clock, so timing says nothing about the signature
    good = hmac.compare_digest(expected.encode(), signature.strip().lower().encode())
    if not good:
        raise IdentityError("invalid_signature", "The identity signature does not match.")
    if abs(now - ts) > MAX_SKEW_SECONDS:
        raise IdentityError("stale_signature", "The identity signature has expired; reload the page.")
    return CustomerIdentity(user_id=user_id, email=email.lower() if email else None, phone=phone)


def _clean(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def issue_widget_token(secret_key: str | bytes, conversation_id: int, customer_key: str) -> str:
    """A bearer token for one conversation, signed with the console's secret key."""
    return URLSafeTimedSerializer(secret_key, salt=_TOKEN_SALT).dumps(
        {"c": conversation_id, "k": customer_key})


def read_widget_token(secret_key: str | bytes, token: str) -> tuple[int, str] | None:
    """(conversation_id, customer_key) from a token, or None when it is forged or too old."""
    try:
        data = URLSafeTimedSerializer(secret_key, salt=_TOKEN_SALT).loads(
            token, max_age=TOKEN_MAX_AGE_SECONDS)
        return int(data["c"]), str(data["k"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
