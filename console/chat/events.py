"""Telling connected clients what changed, after it is stored.

Rooms: on ``/customer`` each conversation has ``c:<id>``; on ``/agent`` every agent is in
``agents`` (the unassigned queue), ``u:<user id>`` (their own chats) and supervisors also
in ``supervisors``; agents looking at a conversation join ``a:<id>``.  An assigned
conversation's queue updates go to its agent and the supervisors only, so fifty agents do
not each get every message of every chat.

Emits go through the message queue when one is configured; if it is away for a moment
the event is lost in transit but never in the database, and clients catch up with
``resume`` (see console/chat/queue.py for the ``resync`` nudge).
"""
from __future__ import annotations

from console.chat.models import Conversation, Message
from console.chat.presenters import (
    AGENT,
    CUSTOMER,
    conversation_json,
    customer_conversation_json,
    message_json,
)
from console.extensions import socketio

AGENT_NS = "/agent"
CUSTOMER_NS = "/customer"
ALL_AGENTS = "agents"
SUPERVISORS = "supervisors"


def customer_room(conversation_id: int) -> str:
    return f"c:{conversation_id}"


def viewer_room(conversation_id: int) -> str:
    return f"a:{conversation_id}"


def user_room(user_id: int) -> str:
    return f"u:{user_id}"


def queue_rooms(conversation: Conversation, previous_assignee: int | None = None) -> list[str]:
    if conversation.assignee_id is None:
        return [ALL_AGENTS]
    rooms = [user_room(conversation.assignee_id), SUPERVISORS, viewer_room(conversation.id)]
    if previous_assignee not in (None, conversation.assignee_id):
        rooms.append(user_room(previous_assignee))
    if previous_assignee is None and conversation.assignee_id is not None:
        rooms.append(ALL_AGENTS)  # it just left the shared queue: everyone must drop it
    return rooms


def announce_message(message: Message, conversation: Conversation,
                     sender_sid: str | None = None) -> None:
    """``message`` to both sides (notes to agents only), then the queue row to agents.

    The sending connection (``sender_sid``) is skipped: its ack already carries the id and
    seq, so the echo would only cost a frame each way; the sender's other tabs still get it.
    """
    if message.sender_kind != "note":
        socketio.emit("message", message_json(message, CUSTOMER), namespace=CUSTOMER_NS,
                      to=customer_room(conversation.id), skip_sid=sender_sid)
    socketio.emit("message", message_json(message, AGENT), namespace=AGENT_NS,
                  to=viewer_room(conversation.id), skip_sid=sender_sid)
    announce_conversation(conversation, "message", message=message)


def announce_conversation(conversation: Conversation, reason: str,
                          previous_assignee: int | None = None,
                          message: Message | None = None, notify_customer: bool = False) -> None:
    sender = message.sender_kind if message is not None else None
    payload = {"reason": reason,
               "conversation": conversation_json(conversation, last_sender=sender)}
    if message is not None:
        payload["message"] = {"seq": message.seq, "sender": message.sender_kind,
                              "sender_name": message.sender_name,
                              "body": message.body[:160]}
    socketio.emit("conversation", payload, namespace=AGENT_NS,
                  to=queue_rooms(conversation, previous_assignee))
    if notify_customer:
        socketio.emit("conversation", {"reason": reason,
                                       "conversation": customer_conversation_json(conversation)},
                      namespace=CUSTOMER_NS, to=customer_room(conversation.id))


def announce_typing(conversation_id: int, sender: str, name: str | None, typing: bool,
                    skip_sid: str | None = None) -> None:
    payload = {"conversation_id": conversation_id, "sender": sender, "name": name,
               "typing": typing}
    if sender == "customer":
        socketio.emit("typing", payload, namespace=AGENT_NS, to=viewer_room(conversation_id))
    else:
        socketio.emit("typing", payload, namespace=CUSTOMER_NS,
                      to=customer_room(conversation_id))
        socketio.emit("typing", payload, namespace=AGENT_NS, to=viewer_room(conversation_id),
                      skip_sid=skip_sid)


def announce_read(conversation_id: int, reader: str, seq: int) -> None:
    payload = {"conversation_id": conversation_id, "reader": reader, "seq": seq}
    if reader == "customer":
        socketio.emit("read", payload, namespace=AGENT_NS, to=viewer_room(conversation_id))
    else:
        socketio.emit("read", payload, namespace=CUSTOMER_NS, to=customer_room(conversation_id))
        socketio.emit("read", payload, namespace=AGENT_NS, to=viewer_room(conversation_id))


def announce_order_update(conversation: Conversation, customer_payload: dict,
                          agent_payload: dict) -> None:
    socketio.emit("order_update", customer_payload, namespace=CUSTOMER_NS,
                  to=customer_room(conversation.id))
    socketio.emit("order_update", agent_payload, namespace=AGENT_NS,
                  to=viewer_room(conversation.id))


def announce_presence(agent: dict) -> None:
    socketio.emit("presence", agent, namespace=AGENT_NS, to=ALL_AGENTS)
