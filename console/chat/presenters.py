"""Chat objects as JSON for the two audiences: agents see notes and contacts (masked),
customers see neither notes nor internal details."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import object_session

from adapters.base import Order
from console.chat.agent_names import agent_name
from console.chat.models import Attachment, Conversation, Message
from console.models import utcnow
from console.orders.explain import category_label, explain_status, status_label
from console.orders.timeline import build_timeline
from console.pii import mask_text
from console.presenters import iso, mask_email, mask_phone, money

AGENT = "agent"
CUSTOMER = "customer"


def attachment_json(attachment: Attachment | None) -> dict | None:
    if attachment is None:
        return None
    return {"id": attachment.id, "url": f"/api/chat/attachments/{attachment.id}",
            "content_type": attachment.content_type, "size": attachment.size}


def message_json(message: Message, audience: str) -> dict:
    """The ``message`` event and resume payload; ``sender`` is the kind of sender."""
    data = {
        "id": message.id, "seq": message.seq, "conversation_id": message.conversation_id,
        "client_id": message.client_id, "sender": message.sender_kind,
        "sender_name": message.sender_name, "body": message.body,
        "sent_at": iso(message.sent_at), "order_no": message.order_no,
        "attachment": attachment_json(message.attachment),
    }
    if audience == CUSTOMER:
        if message.customer_extra:
            data["extra"] = message.customer_extra
        if message.sender_kind != "customer":
            data["client_id"] = None  # the shop's own ids mean nothing to the customer
    else:
        data["sender_id"] = message.sender_id
    return data


def wait_seconds(conversation: Conversation, now: datetime | None = None) -> int | None:
    if conversation.waiting_since is None:
        return None
    return max(0, int(((now or utcnow()) - conversation.waiting_since).total_seconds()))


PREVIEW_SENDERS = ("customer", "agent")


def preview_sender(conversation: Conversation) -> str | None:
    """Who wrote ``last_preview`` ("customer" or "agent"), so the queue row can say so
    instead of leaving the line next to the assignee's name, as if the agent wrote it."""
    session = object_session(conversation)
    if session is None or not conversation.last_preview:
        return None
    return session.execute(
        select(Message.sender_kind)
        .where(Message.conversation_id == conversation.id,
               Message.sender_kind.in_(PREVIEW_SENDERS))
        .order_by(Message.seq.desc()).limit(1)).scalar_one_or_none()


def conversation_json(conversation: Conversation, order_nos: list[str] | None = None,
                      now: datetime | None = None, last_sender: str | None = None) -> dict:
    """A queue row / conversation header for agents; ``last_sender`` saves the look-up
    when the caller has just written the message the preview shows."""
    assignee = agent_name(conversation.assignee_id)
    return {
        "id": conversation.id, "status": conversation.status,
        "assignee": {"id": conversation.assignee_id, "name": assignee}
        if assignee is not None else None,
        "customer": {
            "user_id": mask_text(conversation.customer_user_id),
            "email": mask_email(conversation.customer_email),
            "phone": mask_phone(conversation.customer_phone),
            "identity_verified": conversation.identity_verified,
        },
        "lang": conversation.lang,
        "attached_order_no": conversation.attached_order_no,
        "order_nos": order_nos if order_nos is not None else None,
        "created_at": iso(conversation.created_at), "opened_at": iso(conversation.opened_at),
        "waiting_since": iso(conversation.waiting_since),
        "wait_seconds": wait_seconds(conversation, now),
        "first_response_at": iso(conversation.first_response_at),
        "resolved_at": iso(conversation.resolved_at),
        "last_message_at": iso(conversation.last_message_at),
        "last_preview": mask_text(conversation.last_preview),
        "last_preview_sender": last_sender if last_sender in PREVIEW_SENDERS
        else preview_sender(conversation),
        "last_seq": conversation.last_seq,
        "customer_read_seq": conversation.customer_read_seq,
        "agent_read_seq": conversation.agent_read_seq,
    }


def customer_conversation_json(conversation: Conversation) -> dict:
    """What the widget may know about its own conversation."""
    return {"id": conversation.id, "status": conversation.status,
            "agent": agent_name(conversation.assignee_id),
            "last_seq": conversation.last_seq, "agent_read_seq": conversation.agent_read_seq,
            "attached_order_no": conversation.attached_order_no}


def order_for_customer(order: Order, lang: str, now: datetime | None = None) -> dict:
    """An order in plain words with its timeline, without anything internal (suppliers,
    IPs, delivery-log details, keys)."""
    explained = explain_status(order.status, order.product.category, lang)
    timeline = build_timeline(order, now or utcnow())
    return {
        "order_no": order.order_no, "status": order.status,
        "status_label": status_label(order.status, lang),
        "product_name": order.product.name,
        "category": category_label(order.product.category, lang),
        "quantity": order.quantity, "amount_paid": money(order.amount_paid),
        "currency": order.currency, "created_at": iso(order.created_at),
        "explanation": {"title": explained.title, "text": explained.text,
                        "expected_wait": explained.expected_wait},
        "timeline": [{"kind": step.kind, "label": step.label(lang), "at": iso(step.at),
                      "state": step.state} for step in timeline.steps],
    }


def order_for_agent(order: Order, lang: str) -> dict:
    """A side-panel card: status in plain words and the next step for the agent."""
    explained = explain_status(order.status, order.product.category, lang)
    return {
        "order_no": order.order_no, "status": order.status,
        "status_label": status_label(order.status, lang), "product_name": order.product.name,
        "amount_paid": money(order.amount_paid), "created_at": iso(order.created_at),
        "explanation": explained.text, "next_step": explained.next_step,
        "recipient_account": order.recipient_account,
    }
