"""Writing audit records: who (name and role) did what, to which object, from where (IP and
request id), when (UTC), and what changed (before/after, never a secret)."""
from __future__ import annotations

import re
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy.orm import Session

from console.extensions import db
from console.models import AuditRecord, User, utcnow
from console.pii import mask_contact, mask_text

REQUEST_ID_HEADER = "X-Request-Id"
# an id the proxy in front may already have given the request; anything else is replaced
_GOOD_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
# keys whose values never enter the audit trail, at any depth
SECRET_KEYS = frozenset({"secret", "secrets", "password", "password_hash", "token",
                         "token_hash", "proof_url", "new_keys", "signature", "csrf_token"})
# keys whose values are contacts: kept masked
CONTACT_KEYS = frozenset({"phone", "email", "customer_phone", "customer_email"})
REDACTED = "[redacted]"


def request_id() -> str:
    """This request's id (from ``X-Request-Id`` when well formed, else a new one); outside a
    request (the CLI, background jobs) one id per application context."""
    holder = g if has_request_context() or _has_app_context() else None
    if holder is None:
        return "none-" + uuid.uuid4().hex[:16]
    current = getattr(holder, "kamidesk_request_id", None)
    if current is None:
        offered = request.headers.get(REQUEST_ID_HEADER, "") if has_request_context() else ""
        current = offered if _GOOD_REQUEST_ID.match(offered) else uuid.uuid4().hex
        holder.kamidesk_request_id = current
    return current


def _has_app_context() -> bool:
    from flask import has_app_context
    return has_app_context()


def scrub(value: Any, key: str | None = None) -> Any:
    """A copy of ``value`` safe to keep forever: secrets redacted, contacts masked."""
    if key in SECRET_KEYS:
        return REDACTED
    if isinstance(value, dict):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return mask_contact(value) if key in CONTACT_KEYS else mask_text(value)
    return value


def object_of(order_no: str | None, detail: dict) -> str | None:
    """What the record is about, as ``kind:id`` (an order, an action, a user...)."""
    if order_no:
        return f"order:{order_no}"
    for name, kind in (("action_id", "action"), ("conversation_id", "conversation"),
                       ("target", "user"), ("token_id", "token")):
        if detail.get(name) is not None:
            return f"{kind}:{detail[name]}"
    return None


def record(kind: str, actor: User | None = None, actor_name: str | None = None,
           order_no: str | None = None, *, before: dict | None = None,
           after: dict | None = None, obj: str | None = None,
           session: Session | None = None, **detail: object) -> AuditRecord:
    """Add an audit record to ``session`` (the request's by default); the caller's commit
    makes it durable together with whatever it describes."""
    kept = scrub({k: v for k, v in detail.items() if v is not None})
    entry = AuditRecord(
        kind=kind, at=utcnow(), actor_id=actor.id if actor else None,
        actor_name=actor.name if actor else (actor_name or "-"),
        actor_role=actor.role if actor else None, order_no=order_no,
        object=(obj or object_of(order_no, kept) or "")[:120] or None,
        ip=request.remote_addr if has_request_context() else None,
        request_id=request_id(), detail=kept,
        before=scrub(before) if before is not None else None,
        after=scrub(after) if after is not None else None,
    )
    (session if session is not None else db.session).add(entry)
    return entry


def init_request_ids(app: Flask) -> None:
    """Every answer carries its request id, so a complaint can be matched to its audit rows
    and log lines."""
    @app.after_request
    def tag_response(response: Response) -> Response:
        response.headers.setdefault(REQUEST_ID_HEADER, request_id())
        return response
