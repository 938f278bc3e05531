"""Who may open a Socket.IO connection, how big a frame may be, and how a signed-out or
disabled agent's open sockets are closed.

- Origins: a browser's connection is accepted from the console's own origin (scheme and
  host of the request, as ``ProxyFix`` sees them behind the trusted proxies) and from the
  shop's ``WIDGET_ORIGINS``; never from anywhere (``'*'`` is not an option).  Clients that
  send no ``Origin`` (servers, scripts) still have to authenticate in ``connect``.
- Frames: ``MAX_FRAME_BYTES`` (64 KB) per HTTP poll or WebSocket message; a chat message
  is far smaller, and a bigger frame closes the connection before it is read.
- Ending sessions: ``disconnect_user`` closes every ``/agent`` socket of an account, in this
  process and, through the Redis queue, in every other.
"""
from __future__ import annotations

from collections.abc import Callable

from console.chat import events
from console.chat.queue import disconnect_local_room
from console.extensions import socketio

MAX_FRAME_BYTES = 64 * 1024


def origin_check(widget_origins: tuple[str, ...]) -> Callable[[str | None, dict], bool]:
    allowed = frozenset(widget_origins)

    def allowed_origin(origin: str | None, environ: dict) -> bool:
        if origin is None:
            return True
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin == own or origin in allowed
    return allowed_origin


def socket_options(config: dict) -> dict:
    """Keyword arguments for ``socketio.init_app``."""
    return {"cors_allowed_origins": origin_check(tuple(config.get("WIDGET_ORIGINS") or ())),
            "max_http_buffer_size": MAX_FRAME_BYTES}


def disconnect_user(user_id: int) -> None:
    """Close the agent's sockets everywhere (a signed-out or disabled account)."""
    server = socketio.server
    if server is None:
        return
    room = events.user_room(user_id)
    manager = server.manager
    if hasattr(manager, "disconnect_room"):
        manager.disconnect_room(room, events.AGENT_NS)
    else:
        disconnect_local_room(server, room, events.AGENT_NS)
