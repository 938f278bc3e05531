"""The console's own tables: people, their API tokens, and the audit trail."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone

from flask_login import UserMixin
from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, TypeDecorator
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from console.extensions import db

ROLES = ("agent", "supervisor", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
TOKEN_PREFIX = "kd_"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes back out of every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return value.astimezone(timezone.utc) if value is not None and value.tzinfo else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def has_role(self, role: str) -> bool:
        """Roles are ranked: a supervisor may do what an agent may, an admin all."""
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]

    def get_id(self) -> str:
        """``"<id>.<session version>"`` goes into sessions and remember cookies, so bumping
        the version (console/auth/models.py) ends them all."""
        from console.auth.models import current_version
        return f"{self.id}.{current_version(db.session, self.id)}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active


def hash_token(token: str) -> str:
    """Tokens are long random strings, so a fast unsalted hash is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    label: Mapped[str] = mapped_column(String(80), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(back_populates="tokens")

    @classmethod
    def issue(cls, user: User, label: str = "") -> tuple[ApiToken, str]:
        """A new token; the plain text is returned once and never stored."""
        plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
        return cls(user=user, label=label, token_hash=hash_token(plain), hint=plain[-6:]), plain


class AuditRecord(db.Model):
    """Append-only: rows are inserted, never updated or deleted; the database enforces it
    (``console.schema`` installs triggers, and on PostgreSQL the grants in the README take
    UPDATE and DELETE away from the application's role)."""

    __tablename__ = "audit_records"
    __table_args__ = (
        Index("ix_audit_at", "at"),
        Index("ix_audit_order", "order_no", "at"),
        Index("ix_audit_actor", "actor_name", "at"),
        Index("ix_audit_kind", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    order_no: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    # added after the first release: console.schema adds them to older tables at start-up
    actor_role: Mapped[str | None] = mapped_column(String(16))
    object: Mapped[str | None] = mapped_column(String(120))
    request_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
