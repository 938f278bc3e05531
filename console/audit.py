"""Writing audit records: who did what, to which order, from where."""
from __future__ import annotations

from flask import has_request_context, request

from console.extensions import db
from console.models import AuditRecord, User


def record(kind: str, actor: User | None = None, actor_name: str | None = None,
           order_no: str | None = None, **detail: object) -> AuditRecord:
    """Add an audit record to the current session; the caller's commit makes it durable
    together with whatever it describes."""
    entry = AuditRecord(
        kind=kind, actor_id=actor.id if actor else None,
        actor_name=actor.name if actor else (actor_name or "-"), order_no=order_no,
        ip=request.remote_addr if has_request_context() else None,
        detail={k: v for k, v in detail.items() if v is not None},
    )
    db.session.add(entry)
    return entry
