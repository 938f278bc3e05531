"""Socket.IO handlers: ``/agent`` for the inbox, ``/customer`` for the widget.

Identity is settled once, in ``connect`` (a refused connection never reaches a handler),
and kept in that connection's own session.  Every client event is
answered through its ack: ``{"error": {"code", "message"}}`` on refusal, otherwise the
result.  Rooms are joined only here, after the service says the client may see the
conversation, so a client cannot listen to a chat by naming its room.
"""
from __future__ import annotations

import functools
import logging
import socket
import time
from collections.abc import Callable

from flask import current_app, request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, Namespace, disconnect, join_room, leave_room

from console.access import still_signed_in, user_for_token
from console.auth.models import current_version
from console.chat import events, service, writer
from console.chat.identity import read_widget_token
from console.chat.limits import AGENT_MESSAGES, CUSTOMER_MESSAGES, TYPING, TokenBucket
from console.chat.models import AgentPresence, Conversation
from console.chat.presenters import AGENT, CUSTOMER, conversation_json, message_json
from console.chat.service import AgentRef, ChatError
from console.extensions import db, socketio
from console.ratelimits import spend

log = logging.getLogger(__name__)


def acked(handler: Callable) -> Callable:
    """Turn refusals into error acks and never leave a half-done transaction behind."""
    @functools.wraps(handler)
    def run(self, data=None, *rest):
        try:
            if data is not None and not isinstance(data, dict):
                raise ChatError(400, "invalid_request", _("Send a JSON object."))
            return handler(self, data or {})
        except ChatError as exc:
            db.session.rollback()
            return exc.as_ack()
        except Exception:
            db.session.rollback()
            log.exception("chat handler %s failed", handler.__name__)
            return {"error": {"code": "internal_error",
                              "message": _("Something went wrong; it has been logged.")}}
    return run


def _no_delay() -> None:
    """Send small frames at once.  Chat sends several small frames in a row (ack, message,
    queue row); with Nagle's algorithm on, the second waits for the peer's delayed ACK,
    40 ms on Linux, even on loopback.  The socket hides in a different place per server."""
    environ = request.environ
    candidates = [environ.get("werkzeug.socket"), environ.get("gunicorn.socket")]
    websocket = environ.get("wsgi.websocket")
    handler = getattr(websocket, "handler", None)
    candidates.append(getattr(handler, "socket", None))
    for sock in candidates:
        if sock is not None and hasattr(sock, "setsockopt"):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                continue
            return


def _sid() -> str:
    """This socket's id, which Flask-SocketIO puts on the request."""
    return request.sid  # type: ignore[attr-defined]


def _conversation_id(data: dict) -> int:
    try:
        return int(data.get("conversation_id"))  # type: ignore[arg-type]  # None: TypeError
    except (TypeError, ValueError):
        raise ChatError(400, "invalid_request", _("conversation_id must be a number.")) from None


class _ChatNamespace(Namespace):
    """What both sides share: the per-connection session and flood control."""

    def _session(self) -> dict:
        """This connection's own state: Flask-SocketIO keeps ``flask.session`` per connection
        in memory (a copy of the cookie session), which also works under its test client."""
        return session.setdefault(f"kamidesk.chat{self.namespace}", {})

    def _save(self, data: dict) -> None:
        session[f"kamidesk.chat{self.namespace}"] = data

    def _spend(self, bucket_name: str, limits: tuple[float, float], quiet: bool = False) -> bool:
        state = self._session()
        bucket = state.get(bucket_name)
        if bucket is None:
            bucket = state[bucket_name] = TokenBucket(*limits)
        wait = bucket.take(time.monotonic())
        if wait and not quiet:
            raise ChatError(429, "rate_limited",
                            _("You are sending messages too fast; wait a moment and try again."),
                            retry_after=wait)
        return not wait

    @staticmethod
    def _resume_payload(conversation_id: int, after_seq: object, audience: str) -> dict:
        messages, more = service.messages_after(db.session, conversation_id, after_seq,
                                                include_notes=audience == AGENT)
        return {"conversation_id": conversation_id,
                "messages": [message_json(m, audience) for m in messages], "has_more": more}


class CustomerNamespace(_ChatNamespace):
    """The widget: one conversation per connection, named by the widget token."""

    def on_connect(self, auth=None):
        token = auth.get("token") if isinstance(auth, dict) else None
        found = read_widget_token(current_app.secret_key, token) if token else None
        conversation = db.session.get(Conversation, found[0]) if found else None
        if not found or not service.check_customer_key(conversation, found[1]):
            raise ConnectionRefusedError(_("The chat session is not valid."),
                                         {"code": "invalid_token"})
        self._save({"conversation_id": conversation.id})
        join_room(events.customer_room(conversation.id))
        _no_delay()

    def on_disconnect(self, reason=None):
        return None

    def _own(self, data: dict) -> int:
        conversation_id = _conversation_id(data) if data.get("conversation_id") is not None \
            else self._session()["conversation_id"]
        if conversation_id != self._session()["conversation_id"]:
            raise ChatError(403, "forbidden", _("This chat belongs to someone else."))
        return conversation_id

    @acked
    def on_join(self, data: dict):
        return {"conversation_id": self._own(data), "joined": True}

    @acked
    def on_message(self, data: dict):
        conversation_id = self._own(data)
        self._spend("messages", CUSTOMER_MESSAGES)
        wait = spend("CHAT_MESSAGE_LIMIT", "conversation", conversation_id,
                     local_fallback=True)
        if wait:  # per customer, however many sockets they open
            raise ChatError(429, "rate_limited", _("You are sending messages too fast; wait a "
                                                   "moment and try again."), retry_after=wait)
        message, conversation, created = store_message(
            conversation_id, sender_kind="customer", body=data.get("body"),
            client_id=data.get("client_id"), attachment_id=_attachment_id(data))
        shown = message_json(message, CUSTOMER)
        ack = {"id": message.id, "seq": message.seq, "sent_at": shown["sent_at"],
               "duplicate": not created, "message": shown}
        if created:
            started_waiting = conversation.waiting_since == message.sent_at
            events.announce_message(message, conversation, sender_sid=_sid())
            if started_waiting and conversation.assignee_id is None:
                assign_waiting(conversation_id)
        return ack

    @acked
    def on_resume(self, data: dict):
        return self._resume_payload(self._own(data), data.get("after_seq"), CUSTOMER)

    @acked
    def on_typing(self, data: dict):
        conversation_id = self._own(data)
        if self._spend("typing", TYPING, quiet=True):
            events.announce_typing(conversation_id, "customer", None,
                                   bool(data.get("typing", True)))
        return {"ok": True}

    @acked
    def on_read(self, data: dict):
        conversation_id = self._own(data)
        seq = service.mark_read(db.session, conversation_id, "customer", data.get("seq"))
        if seq is not None:
            events.announce_read(conversation_id, "customer", seq)
        return {"seq": seq}


def store_message(conversation_id: int, **fields):
    """``service.post_message`` for a socket handler, with group commit: see
    console/chat/writer.py."""
    return writer.write(db.session(), conversation_id, **fields)


def _attachment_id(data: dict) -> int | None:
    value = data.get("attachment_id")
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ChatError(400, "invalid_request", _("attachment_id must be a number.")) from None


class AgentNamespace(_ChatNamespace):
    """The inbox: agents signed in by session cookie or ``auth={"token": <bearer>}``."""

    def on_connect(self, auth=None):
        token = auth.get("token") if isinstance(auth, dict) else None
        user = user_for_token(token) if token else (
            current_user._get_current_object() if current_user.is_authenticated else None)
        if user is None or not user.active or not user.has_role("agent"):
            raise ConnectionRefusedError(_("Sign in as an agent first."),
                                         {"code": "authentication_required"})
        agent = AgentRef.of(user)
        # a cookie connection lives only as long as the session version it started with
        self._save({"agent": agent,
                    "version": None if token else current_version(db.session, user.id)})
        _no_delay()
        join_room(events.ALL_AGENTS)
        join_room(events.user_room(agent.id))
        if agent.has_role("supervisor"):
            join_room(events.SUPERVISORS)
        service.agent_connected(db.session, agent.id)
        events.announce_presence(_presence_of(agent))
        fill_free_agents()

    def on_disconnect(self, reason=None):
        agent = self._session().get("agent")
        if agent is not None:
            service.agent_disconnected(db.session, agent.id)
            events.announce_presence(_presence_of(agent))

    def _agent(self) -> AgentRef:
        """The connection's agent, checked again on every event: a signed-out, disabled or
        demoted account is disconnected here even if the push in ``disconnect_user`` missed
        this process."""
        state = self._session()
        agent = state["agent"]
        if not still_signed_in(agent.id, state.get("version")):
            disconnect()
            raise ChatError(401, "session_ended", _("You were signed out; sign in again."))
        return agent

    def _visible(self, data: dict) -> Conversation:
        conversation = service.get_conversation(db.session, _conversation_id(data))
        service.require_view(self._agent(), conversation)
        return conversation

    @acked
    def on_join(self, data: dict):
        conversation = self._visible(data)
        join_room(events.viewer_room(conversation.id))
        payload = self._resume_payload(conversation.id, data.get("after_seq", 0), AGENT)
        payload["conversation"] = conversation_json(
            conversation, service.verified_order_nos(db.session, conversation.id))
        return payload

    @acked
    def on_leave(self, data: dict):
        self._agent()
        leave_room(events.viewer_room(_conversation_id(data)))
        return {"ok": True}

    @acked
    def on_message(self, data: dict):
        agent = self._agent()
        self._spend("messages", AGENT_MESSAGES)
        conversation = self._visible(data)
        note = bool(data.get("note")) or data.get("kind") == "note"
        previous = conversation.assignee_id
        message, conversation, created = store_message(
            conversation.id, sender_kind="note" if note else "agent", body=data.get("body"),
            client_id=data.get("client_id"), agent=agent, attachment_id=_attachment_id(data))
        if created:
            events.announce_message(message, conversation, sender_sid=_sid())
            if previous != conversation.assignee_id:
                events.announce_conversation(conversation, "assigned", previous,
                                             notify_customer=True)
        shown = message_json(message, AGENT)
        return {"id": message.id, "seq": message.seq, "sent_at": shown["sent_at"],
                "duplicate": not created, "message": shown}

    @acked
    def on_resume(self, data: dict):
        conversation = self._visible(data)
        return self._resume_payload(conversation.id, data.get("after_seq"), AGENT)

    @acked
    def on_typing(self, data: dict):
        conversation = self._visible(data)
        if self._spend("typing", TYPING, quiet=True):
            events.announce_typing(conversation.id, "agent", self._agent().name,
                                   bool(data.get("typing", True)), skip_sid=_sid())
        return {"ok": True}

    @acked
    def on_read(self, data: dict):
        conversation = self._visible(data)
        seq = service.mark_read(db.session, conversation.id, "agent", data.get("seq"))
        if seq is not None:
            events.announce_read(conversation.id, "agent", seq)
        return {"seq": seq}

    @acked
    def on_presence(self, data: dict):
        """Online/away, and a heartbeat: the inbox sends it every minute."""
        agent = self._agent()
        status = data.get("status")
        before = service.is_online(db.session.get(AgentPresence, agent.id))
        service.set_presence(db.session, agent.id, status=status)
        state = _presence_of(agent)
        if status is not None or before != (state["presence"] == "online"):
            events.announce_presence(state)
        if state["presence"] == "online":
            fill_free_agents()
        return state


def _presence_of(agent: AgentRef) -> dict:
    for row in service.agents_overview(db.session):
        if row["id"] == agent.id:
            return row
    return {"id": agent.id, "name": agent.name, "presence": "offline"}


def assign_waiting(conversation_id: int) -> int | None:
    """Auto-assign one waiting conversation and tell everyone; the agent's id or None."""
    agent_id = service.auto_assign(db.session, conversation_id)
    if agent_id is not None:
        conversation = service.get_conversation(db.session, conversation_id)
        events.announce_conversation(conversation, "assigned", None, notify_customer=True)
    return agent_id


def fill_free_agents(rounds: int = 10) -> None:
    """Hand the oldest waiting conversations to agents with room, until none fits."""
    for _round in range(rounds):
        waiting = service.oldest_waiting(db.session)
        if waiting is None or assign_waiting(waiting) is None:
            return


def register_namespaces() -> None:
    """Attach fresh handlers to the current Socket.IO server (one per app)."""
    socketio.on_namespace(AgentNamespace(events.AGENT_NS))
    socketio.on_namespace(CustomerNamespace(events.CUSTOMER_NS))
