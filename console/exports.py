"""Who may take data out of the console unmasked, and the audit record every export leaves.

Exports are the easiest way to walk off with a shop's customer list, so they are masked
like the lists they come from unless the exporting role is named in
``KAMIDESK_UNMASKED_EXPORT_ROLES`` (default: admins only), and each one is audited with
what was asked for, how many rows left and whether they were masked.
"""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_login import current_user
from sqlalchemy.orm import Session

from console import audit
from console.extensions import db

DEFAULT_UNMASKED_EXPORT_ROLES = "admin"


def unmasked_roles() -> frozenset[str]:
    raw = current_app.config.get("UNMASKED_EXPORT_ROLES")
    if raw is None:
        raw = DEFAULT_UNMASKED_EXPORT_ROLES
    if isinstance(raw, str):
        raw = raw.split(",")
    return frozenset(part.strip() for part in raw if part and part.strip())


def export_unmasked() -> bool:
    """Whether the signed-in user's exports show contacts and IPs whole."""
    user = current_user
    return bool(user and user.is_authenticated and user.role in unmasked_roles())


def audit_export(what: str, *, masked: bool, rows: int | None = None,
                 **detail: Any) -> None:
    """Record the export in a transaction of its own, committed before the first byte
    leaves (the file is streamed after the view returns, from the request's session)."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    with Session(db.engine) as own:
        audit.record("export", user, what=what, masked=masked, rows=rows, session=own,
                     **detail)
        own.commit()
