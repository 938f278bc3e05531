"""Live chat's own tables: conversations, their messages, orders linked to them, uploads,
canned replies and agent presence.

Delivery guarantees live in the schema, not in the handlers: ``(conversation_id, seq)`` is
unique so a message has exactly one place in its conversation's order, and
``(conversation_id, sender_key, client_id)`` is unique so a re-sent message is stored once.
``Conversation.last_seq`` is the per-conversation counter that allocates ``seq``.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db
from console.models import User, UtcDateTime, utcnow

CONVERSATION_STATES = ("open", "assigned", "resolved")
SENDER_KINDS = ("customer", "agent", "system", "note")
PRESENCE_STATES = ("online", "away")


class Conversation(db.Model):
    """One customer's thread with the shop, and the timestamps response metrics need."""

    __tablename__ = "chat_conversations"
    __table_args__ = (
        Index("ix_chat_conv_queue", "status", "waiting_since"),
        Index("ix_chat_conv_assignee", "assignee_id", "status"),
        Index("ix_chat_conv_opened", "opened_at"),
        Index("ix_chat_conv_user", "customer_user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    # the widget token is bound to this random key, so a token cannot be forged from an id
    customer_key: Mapped[str] = mapped_column(String(64))
    customer_user_id: Mapped[str | None] = mapped_column(String(120))
    customer_email: Mapped[str | None] = mapped_column(String(200))
    customer_phone: Mapped[str | None] = mapped_column(String(40))
    identity_verified: Mapped[bool] = mapped_column(default=False)
    lang: Mapped[str] = mapped_column(String(8), default="en")
    attached_order_no: Mapped[str | None] = mapped_column(String(64))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    first_responder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    customer_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    agent_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    verify_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_preview: Mapped[str] = mapped_column(String(160), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # when the customer first asked for help; metrics count from here
    opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # the oldest customer message no agent has answered yet; None when nobody waits
    waiting_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_message_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    orders: Mapped[list[ConversationOrder]] = relationship(
        back_populates="conversation", order_by="ConversationOrder.id")


class ConversationOrder(db.Model):
    """An order linked to a conversation: verified by the customer, or attached by an agent."""

    __tablename__ = "chat_conversation_orders"
    __table_args__ = (
        UniqueConstraint("conversation_id", "order_no", name="uq_chat_conv_order"),
        Index("ix_chat_conv_order_no", "order_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("chat_conversations.id"))
    order_no: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(16))  # "phone_tail", "search_password", "agent"
    verified: Mapped[bool] = mapped_column(default=True)
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="orders")


class Attachment(db.Model):
    """An uploaded screenshot: stored under a random name, served only to its conversation."""

    __tablename__ = "chat_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("chat_conversations.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(16))  # "customer" or "agent"
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Message(db.Model):
    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_chat_msg_seq"),
        UniqueConstraint("conversation_id", "sender_key", "client_id", name="uq_chat_msg_client"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("chat_conversations.id"))
    seq: Mapped[int] = mapped_column(Integer)
    # who may re-send with the same client_id: "customer", "user:<id>" or "system"
    sender_key: Mapped[str] = mapped_column(String(32))
    client_id: Mapped[str | None] = mapped_column(String(80))
    sender_kind: Mapped[str] = mapped_column(String(16))
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sender_name: Mapped[str | None] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text, default="")
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("chat_attachments.id"))
    order_no: Mapped[str | None] = mapped_column(String(64))
    # shown to the customer only (e.g. a reissued card key); agents see the body alone
    customer_extra: Mapped[dict | None] = mapped_column(JSON)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    attachment: Mapped[Attachment | None] = relationship()


class CannedReply(db.Model):
    """A saved answer: ``/shortcut`` in the composer expands it, with {order_no} and
    {status_explanation} filled from the conversation's order."""

    __tablename__ = "chat_canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(120), default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AgentPresence(db.Model):
    """Whether an agent takes chats now, and how many at once (auto-assignment reads this)."""

    __tablename__ = "chat_agent_presence"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(8), default="online")
    connections: Mapped[int] = mapped_column(Integer, default=0)
    max_active: Mapped[int] = mapped_column(Integer, default=5)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship()
