"""Server-side sign-in state: each account's session version.

Sessions are signed cookies, so the server cannot delete one; instead every session and
remember cookie carries the account's version (``User.get_id()`` is ``"<id>.<version>"``)
and is honoured only while it matches.  Signing out, disabling an account or changing its
password bumps the version, which ends every session of that account at once.
"""
from __future__ import annotations

from sqlalchemy import ForeignKey, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from console.extensions import db


class SessionVersion(db.Model):
    __tablename__ = "session_versions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    version: Mapped[int] = mapped_column(default=1)


def current_version(session: Session, user_id: int) -> int:
    """Read from the database every time (never the identity map), so a bump made by
    another process or request counts at once."""
    found = session.execute(select(SessionVersion.version)
                            .where(SessionVersion.user_id == user_id)).scalar_one_or_none()
    return found if found is not None else 1


def end_all_sessions(session: Session, user_id: int) -> int:
    """Bump the version (atomically, in the caller's transaction); the new version."""
    done = session.execute(update(SessionVersion).where(SessionVersion.user_id == user_id)
                           .values(version=SessionVersion.version + 1)).rowcount  # type: ignore[attr-defined]
    if not done:
        try:
            with session.begin_nested():
                session.add(SessionVersion(user_id=user_id, version=2))
        except IntegrityError:  # a twin created it meanwhile
            session.execute(update(SessionVersion).where(SessionVersion.user_id == user_id)
                            .values(version=SessionVersion.version + 1))
    return session.execute(select(SessionVersion.version)
                           .where(SessionVersion.user_id == user_id)).scalar_one()
