"""Real chat servers and real Socket.IO clients for the live-chat tests and benchmark.

``ChatServer`` runs ``python -m console.cli serve`` (or gunicorn with gevent) in its own
process group on a free loopback port, against an instance folder the test owns; it can be
stopped, SIGKILLed and started again on the same port.  ``ChatClient`` is a
python-socketio client that keeps every message it saw by id, answers ``resync`` with
``resume`` exactly as the browser code does, and offers ``wait_until`` for assertions.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import requests
import socketio
import websocket

from tests.servers import free_port

# websocket-client's close() waits 3 s for a close frame that python-engineio's reader thread
# may already have consumed (so every disconnect, and every refused connect, costs 3 s);
# the server has closed by then, so a short wait loses nothing.
_close = websocket.WebSocket.close
websocket.WebSocket.close = lambda self, status=1000, reason=b"", timeout=0.2: \
    _close(self, status, reason, timeout)


ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "chat-test-secret"
WIDGET_SECRET = "widget-secret"


def prepare_instance(folder: Path, users: dict[str, str], orders: list | None = None,
                     database_url: str | None = None) -> dict[str, str]:
    """Console DB with ``users`` (name -> role) and a store with ``orders``; returns a bearer
    token per user.  Runs in this process; the servers read the same files."""
    from console import create_app
    from console.people import issue_token, save_user
    from console.store import get_store

    folder.mkdir(parents=True, exist_ok=True)
    app = create_app(_config(folder, database_url))
    tokens = {}
    with app.app_context():
        for name, role in users.items():
            save_user(name, role, f"{name}-pass-1")
            tokens[name] = issue_token(name, "chat tests")
        if orders:
            get_store().load(orders)
        get_store().close()
        from console.extensions import db
        db.engine.dispose()
    return tokens


def _config(folder: Path, database_url: str | None) -> dict:
    return {"INSTANCE": str(folder),
            "DATABASE_URL": database_url or f"sqlite:///{folder / 'console.db'}",
            "STORE_URL": f"sqlite:///{folder / 'store.db'}", "SECRET_KEY": SECRET_KEY,
            "WIDGET_SECRET": WIDGET_SECRET, "RATELIMIT_ENABLED": False}


class ChatServer:
    """One console process serving HTTP and Socket.IO."""

    health_timeout = 1.0  # seconds a start-up health probe may take

    def __init__(self, folder: Path, message_queue: str | None = None, mode: str = "serve",
                 database_url: str | None = None, port: int | None = None,
                 store_url: str | None = None) -> None:
        self.folder = folder
        self.store_url = store_url
        self.message_queue = message_queue
        self.mode = mode
        self.database_url = database_url
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log = folder / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict:
        env = dict(os.environ)
        env.update({
            "KAMIDESK_INSTANCE": str(self.folder),
            "KAMIDESK_DATABASE_URL":
                self.database_url or f"sqlite:///{self.folder / 'console.db'}",
            "KAMIDESK_STORE_URL": self.store_url or f"sqlite:///{self.folder / 'store.db'}",
            "KAMIDESK_SECRET_KEY": SECRET_KEY, "KAMIDESK_WIDGET_SECRET": WIDGET_SECRET,
            "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
        })
        env.pop("KAMIDESK_MESSAGE_QUEUE", None)
        env.pop("KAMIDESK_ASYNC_MODE", None)
        # served on plain http to python clients, which send no Secure cookie there
        env.setdefault("KAMIDESK_SECURE_COOKIES", "0")
        if self.message_queue:
            env["KAMIDESK_MESSAGE_QUEUE"] = self.message_queue
        if self.mode == "gevent":
            env["KAMIDESK_ASYNC_MODE"] = "gevent"
        return env

    def _command(self) -> list[str]:
        if self.mode == "gevent":
            # gevent-websocket installed => engineio needs its worker for WebSocket upgrades
            return [sys.executable, "-m", "gunicorn", "-k",
                    "geventwebsocket.gunicorn.workers.GeventWebSocketWorker", "-w", "1",
                    "--worker-connections", "4000", "-b", f"127.0.0.1:{self.port}",
                    "--log-level", "warning", "wsgi:app"]
        return [sys.executable, "-m", "console.cli", "serve", "--host", "127.0.0.1",
                "--port", str(self.port)]

    def start(self, timeout: float = 30.0) -> ChatServer:
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(self._command(), cwd=ROOT, env=self._env(),
                                     stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chat server exited early:\n{self.tail()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/healthz",
                                timeout=self.health_timeout).status_code in (200, 503):
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"chat server did not start:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing, like a crashed machine."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def _signal(self, sig: int) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    # --- HTTP helpers ---------------------------------------------------------------------
    def widget_session(self, identity: dict | None = None) -> dict:
        response = requests.post(self.url + "/api/widget/sessions", json=identity or {},
                                 timeout=10)
        response.raise_for_status()
        return response.json()


class ChatClient:
    """A Socket.IO client on one namespace that remembers every message by id."""

    def __init__(self, base_url: str, namespace: str, token: str | None,
                 transports: tuple[str, ...] = ("websocket",)) -> None:
        self.base_url = base_url
        self.namespace = namespace
        self.token = token
        self.transports = list(transports)
        self.sio = socketio.Client(reconnection=False)
        self.messages: dict[int, dict] = {}
        self.deliveries: list[dict] = []         # every message event as it came, duplicates kept
        self.events: dict[str, list] = defaultdict(list)
        self.resyncs = 0
        self.watched: set[int] = set()      # conversations to catch up on after a resync
        self._lock = threading.Lock()
        for event in ("message", "typing", "read", "conversation", "order_update", "presence"):
            self.sio.on(event, self._recorder(event), namespace=namespace)
        self.sio.on("resync", self._on_resync, namespace=namespace)

    def _recorder(self, event: str) -> Callable:
        def record(data):
            with self._lock:
                self.events[event].append(data)
                if event == "message":
                    self.deliveries.append(data)
                    self.messages[data["id"]] = data
        return record

    def _on_resync(self, data) -> None:
        self.resyncs += 1
        # an ack cannot be awaited on the thread that reads the socket
        self.sio.start_background_task(self._catch_up_all)

    def _catch_up_all(self) -> None:
        for conversation_id in {m["conversation_id"] for m in list(self.messages.values())} | \
                set(self.watched):
            with contextlib.suppress(Exception):
                self.resume(conversation_id)

    def connect(self, timeout: float = 10.0) -> ChatClient:
        auth = {"token": self.token} if self.token else None
        self.sio.connect(self.base_url, namespaces=[self.namespace], auth=auth,
                         transports=self.transports, wait_timeout=timeout)
        return self

    def disconnect(self) -> None:
        with contextlib.suppress(Exception):
            self.sio.disconnect()

    @property
    def connected(self) -> bool:
        return self.sio.connected

    def call(self, event: str, data: dict, timeout: float = 10.0):
        return self.sio.call(event, data, namespace=self.namespace, timeout=timeout)

    def send(self, conversation_id: int, body: str, client_id: str | None = None,
             **extra) -> dict:
        payload = {"conversation_id": conversation_id, "client_id": client_id or uuid.uuid4().hex,
                   "body": body, **extra}
        ack = self.call("message", payload)
        if "message" in ack:  # the server does not echo to the sender: keep what the ack says
            self._keep([ack["message"]])
        return ack

    def join(self, conversation_id: int, after_seq: int = 0) -> dict:
        answer = self.call("join", {"conversation_id": conversation_id, "after_seq": after_seq})
        if "messages" in answer:
            self.watched.add(conversation_id)
            self._keep(answer["messages"])
        return answer

    def resume(self, conversation_id: int, after_seq: int | None = None) -> list[dict]:
        after = self.last_seq(conversation_id) if after_seq is None else after_seq
        answer = self.call("resume", {"conversation_id": conversation_id, "after_seq": after})
        if "messages" not in answer:
            raise AssertionError(f"resume refused: {answer}")
        self._keep(answer["messages"])
        return answer["messages"]

    def _keep(self, messages: list[dict]) -> None:
        with self._lock:
            for message in messages:
                self.messages[message["id"]] = message

    def last_seq(self, conversation_id: int) -> int:
        with self._lock:
            return max((m["seq"] for m in self.messages.values()
                        if m["conversation_id"] == conversation_id), default=0)

    def transcript(self, conversation_id: int) -> list[dict]:
        with self._lock:
            return sorted((m for m in self.messages.values()
                           if m["conversation_id"] == conversation_id), key=lambda m: m["seq"])

    def bodies(self, conversation_id: int) -> list[str]:
        return [m["body"] for m in self.transcript(conversation_id)]


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.05,
               message: str = "condition") -> None:
    """Poll until ``predicate`` holds; fail with ``message`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")
