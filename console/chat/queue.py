"""The Redis message queue between Socket.IO processes, made to survive Redis blinking.

python-socketio's RedisManager drops an event it cannot publish and, after its listener
reconnects, does not know what it missed; it has no connection-state recovery.  Chat's
own protocol is the cure (every message is stored with a seq; clients ``resume``), and this
manager makes sure clients are told to use it:

- a publish that fails is kept (bounded) and published again, in order, once Redis
  answers, so other processes' clients still get the event, late but not lost;
- while Redis is known to be down, emits do not wait on it (local clients are served
  first anyway, remote ones get the kept copy later);
- when the listener subscribes again after losing Redis, every client of this process gets
  a local ``resync`` event and answers it with ``resume`` from its last seq, which covers
  events other processes published while this one was not listening;
- TCP keepalive and a connect timeout on every Redis connection, so a silently dead
  connection is noticed in about a minute instead of never.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from collections import deque

from socketio import RedisManager

log = logging.getLogger(__name__)

CHANNEL = "flask-socketio"
RESYNC_EVENT = "resync"
NAMESPACES = ("/agent", "/customer")
PENDING_LIMIT = 10_000
DOWN_BACKOFF_SECONDS = 1.0
MAX_LISTEN_RETRY_SECONDS = 5


def redis_options() -> dict:
    """Connection settings for every Redis connection the manager opens."""
    keepalive = {}
    for name, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, name):
            keepalive[getattr(socket, name)] = value
    return {"socket_keepalive": True, "socket_keepalive_options": keepalive,
            "socket_connect_timeout": 3, "health_check_interval": 30}


class ResilientRedisManager(RedisManager):
    """RedisManager that keeps what it could not publish and nudges clients to resume."""

    name = "kamidesk-redis"
    connected: bool  # set by RedisManager

    def __init__(self, url: str, channel: str = CHANNEL, write_only: bool = False) -> None:
        super().__init__(url, channel=channel, write_only=write_only,
                         redis_options=redis_options())
        self._pending: deque = deque(maxlen=PENDING_LIMIT)
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._retrying = False
        self.resyncs = 0

    # --- publishing ------------------------------------------------------------------------
    def _publish(self, data):
        with self._lock:
            if time.monotonic() >= self._down_until and \
                    (not self._pending or self._flush_locked()) and self._try_publish(data):
                return True
            self._keep(data)
            if time.monotonic() >= self._down_until:
                self._down_until = time.monotonic() + DOWN_BACKOFF_SECONDS
        self._schedule_retry()
        return None

    def _keep(self, data) -> None:
        if data.get("method") in ("emit", "disconnect", "close_room"):
            self._pending.append(data)

    def _try_publish(self, data) -> bool:
        for attempt in range(2):
            try:
                if not self.connected or self.redis is None:
                    self._connect_publisher()
                self.redis.publish(self.channel, self.json.dumps(data))
                return True
            except Exception as exc:  # any Redis/socket failure means "not published"
                self.connected = False
                if attempt:
                    self._get_logger().warning("cannot publish to redis, keeping the event: %s",
                                               exc)
        return False

    def _flush_locked(self) -> bool:
        while self._pending:
            if not self._try_publish(self._pending[0]):
                return False
            self._pending.popleft()
        return True

    def flush_pending(self) -> bool:
        with self._lock:
            self._down_until = 0.0
            return self._flush_locked()

    def _schedule_retry(self) -> None:
        """Publish the kept events in the background once Redis answers again."""
        with self._lock:
            if self._retrying or self.server is None:
                return
            self._retrying = True
        self.server.start_background_task(self._retry_loop)

    def _retry_loop(self) -> None:
        try:
            while self._pending:
                self.server.sleep(DOWN_BACKOFF_SECONDS)
                if self.flush_pending():
                    break
        finally:
            with self._lock:
                self._retrying = False

    @property
    def pending(self) -> int:
        return len(self._pending)

    # --- closing an account's sockets everywhere -------------------------------------------
    def disconnect_room(self, room: str, namespace: str) -> None:
        """python-socketio disconnects one sid at a time; this disconnects a room's clients
        here and asks every other process to do the same with theirs."""
        disconnect_local_room(self.server, room, namespace)
        self._publish({"method": "disconnect", "room": room, "namespace": namespace,
                       "host_id": self.host_id})

    def _handle_disconnect(self, message):
        if message.get("room") is not None and message.get("sid") is None:
            disconnect_local_room(self.server, message["room"], message.get("namespace"))
            return None
        return super()._handle_disconnect(message)

    # --- connections -----------------------------------------------------------------------
    def _connect_publisher(self) -> None:
        module = self._get_redis_module()
        self.redis = module.Redis.from_url(self.redis_url, **self.redis_options)
        self.connected = True

    def _connect_listener(self) -> None:
        """The subscriber has its own connection, so a publisher reconnecting never swaps
        the socket the listener is blocked on."""
        module = self._get_redis_module()
        client = module.Redis.from_url(self.redis_url, **self.redis_options)
        self.pubsub = client.pubsub(ignore_subscribe_messages=True)

    # --- listening -------------------------------------------------------------------------
    def _redis_listen_with_retries(self):  # pragma: no cover - exercised by the Redis tests
        retry_sleep = 1
        subscribed = False
        lost = False
        while True:
            try:
                if not subscribed:
                    self._connect_listener()
                    self.pubsub.subscribe(self.channel)
                    subscribed = True
                    retry_sleep = 1
                    if lost:
                        lost = False
                        self._after_reconnect()
                yield from self.pubsub.listen()
            except Exception as exc:
                self._get_logger().warning("cannot receive from redis, retrying in %ss: %s",
                                           retry_sleep, exc)
                subscribed = False
                lost = True
                time.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, MAX_LISTEN_RETRY_SECONDS)

    def _after_reconnect(self) -> None:
        """Publish what was kept, then tell this process's clients to catch up."""
        self.flush_pending()
        self.resyncs += 1
        for namespace in NAMESPACES:
            try:
                self.emit(RESYNC_EVENT, {"reason": "queue_reconnected"}, namespace=namespace,
                          ignore_queue=True)
            except Exception:  # a namespace nobody connected to yet
                log.debug("no clients on %s to resync", namespace)


def disconnect_local_room(server, room: str, namespace: str) -> int:
    """Disconnect this process's clients in ``room``; how many there were."""
    sids = [sid for sid, _eio in list(server.manager.get_participants(namespace, room))]
    for sid in sids:
        server.disconnect(sid, namespace=namespace, ignore_queue=True)
    return len(sids)


def client_manager_options(url: str | None) -> dict:
    """Keyword arguments for ``socketio.init_app``: our manager for ``redis://`` queues, none
    without a queue, and Flask-SocketIO's own choice for any other kind of queue."""
    if not url:
        return {"client_manager": None}
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"client_manager": ResilientRedisManager(url)}
    return {}
