"""Agents' presence: connections, online/away, how many chats each may hold."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from console.chat.conversations import ChatError
from console.chat.models import AgentPresence, Conversation
from console.models import User, utcnow

ONLINE_GRACE = timedelta(minutes=5)   # presence without a heartbeat this long counts as gone
DEFAULT_AGENT_LIMIT = 5


def _presence(session: Session, user_id: int) -> AgentPresence:
    presence = session.get(AgentPresence, user_id)
    if presence is None:
        presence = AgentPresence(user_id=user_id, status="online", connections=0,
                                 max_active=DEFAULT_AGENT_LIMIT)
        session.add(presence)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()  # another connection inserted it first: read theirs
            return _stored(session, user_id)
    return presence


def _stored(session: Session, user_id: int) -> AgentPresence:
    presence = session.get(AgentPresence, user_id, populate_existing=True)
    assert presence is not None, "the row was just written"
    return presence


def agent_connected(session: Session, user_id: int) -> AgentPresence:
    _presence(session, user_id)
    session.execute(update(AgentPresence).where(AgentPresence.user_id == user_id)
                    .values(connections=AgentPresence.connections + 1, last_seen_at=utcnow())
                    .execution_options(synchronize_session=False))
    session.commit()
    return _stored(session, user_id)


def agent_disconnected(session: Session, user_id: int) -> AgentPresence | None:
    session.execute(update(AgentPresence).where(AgentPresence.user_id == user_id,
                                                AgentPresence.connections > 0)
                    .values(connections=AgentPresence.connections - 1)
                    .execution_options(synchronize_session=False))
    session.commit()
    return session.get(AgentPresence, user_id, populate_existing=True)


def set_presence(session: Session, user_id: int, status: str | None = None,
                 max_active: int | None = None) -> AgentPresence:
    """Online/away from the agent, the limit from a supervisor; also a heartbeat."""
    presence = _presence(session, user_id)
    if status is not None:
        if status not in ("online", "away"):
            raise ChatError(400, "invalid_status", _("Presence is either online or away."))
        presence.status = status
    if max_active is not None:
        if not 0 <= max_active <= 100:
            raise ChatError(400, "invalid_limit", _("The limit must be between 0 and 100."))
        presence.max_active = max_active
    presence.last_seen_at = utcnow()
    session.commit()
    return presence


def is_online(presence: AgentPresence | None, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return bool(presence and presence.status == "online" and presence.connections > 0
                and presence.last_seen_at and presence.last_seen_at >= now - ONLINE_GRACE)


def agents_overview(session: Session) -> list[dict]:
    """Every active agent with presence and how many chats they hold, for 'assign to'."""
    counts = dict(session.execute(
        select(Conversation.assignee_id, func.count()).where(Conversation.status == "assigned")
        .group_by(Conversation.assignee_id)).all())
    rows = session.execute(
        select(User, AgentPresence).outerjoin(AgentPresence, AgentPresence.user_id == User.id)
        .where(User.active.is_(True)).order_by(User.name)).all()
    now = utcnow()
    out = []
    for user, presence in rows:
        state = ("online" if is_online(presence, now) else
                 "away" if presence and presence.connections > 0 else "offline")
        out.append({"id": user.id, "name": user.name, "role": user.role, "presence": state,
                    "active": counts.get(user.id, 0),
                    "limit": presence.max_active if presence else DEFAULT_AGENT_LIMIT})
    return out
