"""Conversations: who may see and write in them, how a customer starts or resumes one,
the refusal type (``ChatError``) and the agent reference every chat rule takes."""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from console.chat import history
from console.chat.identity import CustomerIdentity
from console.chat.models import Conversation
from console.errors import ApiError
from console.models import ROLE_RANK, User
from console.orders.explain import normalise_lang

MAX_BODY_CHARS = 4000


class ChatError(ApiError):
    """A refusal with a stable code; sockets put it in the ack, HTTP in the error body."""

    def __init__(self, status: int, code: str, message: str, **extra: object) -> None:
        super().__init__(status, code, message)
        self.extra = extra

    def as_ack(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


@dataclass(frozen=True)
class AgentRef:
    """The agent acting, without holding an ORM row across a socket's lifetime."""

    id: int
    name: str
    role: str

    @classmethod
    def of(cls, user: User) -> AgentRef:
        return cls(user.id, user.name, user.role)

    def has_role(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]


def get_conversation(session: Session, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise no_such_conversation()
    return conversation


def no_such_conversation() -> ChatError:
    return ChatError(404, "conversation_not_found", _("There is no such conversation."))


def start_conversation(session: Session, identity: CustomerIdentity | None,
                       lang: str) -> Conversation:
    """The customer's conversation: the latest one of a signed identity, else a new one."""
    conversation = _latest_for_identity(session, identity) if identity else None
    if conversation is None:
        conversation = Conversation(customer_key=secrets.token_urlsafe(24),
                                    lang=normalise_lang(lang), status="open")
        if identity:
            conversation.customer_user_id = identity.user_id
            conversation.customer_email = identity.email
            conversation.customer_phone = identity.phone
            conversation.identity_verified = True
        session.add(conversation)
        session.commit()
    return conversation


def _latest_for_identity(session: Session, identity: CustomerIdentity) -> Conversation | None:
    clauses = []
    if identity.user_id:
        clauses.append(Conversation.customer_user_id == identity.user_id)
    if identity.email:
        clauses.append(Conversation.customer_email == identity.email)
    if identity.phone:
        clauses.append(Conversation.customer_phone == identity.phone)
    if not clauses:
        return None
    return session.execute(
        select(Conversation).where(Conversation.identity_verified.is_(True), or_(*clauses))
        .order_by(Conversation.id.desc()).limit(1)).scalar_one_or_none()


def check_customer_key(conversation: Conversation | None, key: str) -> bool:
    return conversation is not None and hmac.compare_digest(conversation.customer_key, key)


def can_view(agent: AgentRef, conversation: Conversation) -> bool:
    """Agents see the unassigned queue and their own chats; supervisors see everything."""
    return (conversation.assignee_id in (None, agent.id)) or agent.has_role("supervisor")


def require_view(agent: AgentRef, conversation: Conversation) -> None:
    if not can_view(agent, conversation):
        raise ChatError(403, "forbidden", _("This conversation is assigned to another agent."))


def require_write(agent: AgentRef, conversation: Conversation) -> None:
    require_view(agent, conversation)


def mark_assigned(conversation: Conversation, agent_id: int, now: datetime) -> dict:
    conversation.assignee_id = agent_id
    conversation.assigned_at = conversation.assigned_at or now
    if conversation.status != "resolved":
        conversation.status = "assigned"
    return history.event(conversation.id, "assigned", agent_id, now)
