"""Disabling an agent through one server process closes their sockets on another.

Two real console processes share one real Redis (as behind a load balancer); the agent's
python-socketio clients are connected to process B, an admin disables the account through
process A, and B must drop the sockets within a second.  Engine.IO only pings every 25 s,
so a prompt drop can only be the disconnect travelling through the queue.  The delay is
measured and reported (``-s`` prints it; JUnit XML keeps it as a property); the assertion
uses a generous bound so a loaded machine does not turn a correct push into a failure.
"""
from __future__ import annotations

import threading
import time

import pytest
import requests
import socketio

from tests.chat_server import ChatServer, prepare_instance

pytestmark = [pytest.mark.redis, pytest.mark.slow]

USERS = {"bob": "agent", "carol": "agent", "root": "admin"}
GENEROUS_BOUND_SECONDS = 5.0  # the target is 1 s; see the README's figures


@pytest.fixture(scope="module")
def pair(tmp_path_factory, redis_server):
    folder = tmp_path_factory.mktemp("disconnect-redis")
    tokens = prepare_instance(folder, USERS)
    first = ChatServer(folder, message_queue=redis_server.url).start()
    second = ChatServer(folder, message_queue=redis_server.url).start()
    yield first, second, tokens
    first.stop()
    second.stop()


class Timed:
    """A raw /agent client that notes when (monotonic clock) the server dropped it."""

    def __init__(self, url: str, token: str, transport: str) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.dropped = threading.Event()
        self.dropped_at = 0.0
        self.sio.on("disconnect", self._on_drop, namespace="/agent")
        self.sio.connect(url, namespaces=["/agent"], transports=[transport],
                         auth={"token": token}, wait_timeout=10)

    def _on_drop(self, *_) -> None:
        self.dropped_at = time.monotonic()
        self.dropped.set()

    def close(self) -> None:
        self.sio.disconnect()


def disable(server: ChatServer, name: str, admin_token: str) -> float:
    """Disable ``name`` through ``server``; the monotonic time the request was sent."""
    sent = time.monotonic()
    answer = requests.post(f"{server.url}/api/users/{name}/disable", timeout=10,
                           headers={"Authorization": f"Bearer {admin_token}"})
    assert answer.status_code == 200 and answer.json()["user"]["active"] is False
    return sent


@pytest.mark.parametrize("name,transport", [("bob", "websocket"), ("carol", "polling")])
def test_disabling_through_a_disconnects_sockets_on_b_promptly(
        pair, name, transport, record_property):
    first, second, tokens = pair
    on_b = Timed(second.url, tokens[name], transport)
    also_b = Timed(second.url, tokens[name], transport)
    try:
        assert on_b.sio.connected and also_b.sio.connected
        sent = disable(first, name, tokens["root"])
        for client in (on_b, also_b):
            assert client.dropped.wait(10), "the disabled agent's socket on B is still open"
        delay = max(on_b.dropped_at, also_b.dropped_at) - sent
        record_property(f"disconnect_delay_{transport}_s", round(delay, 3))
        print(f"\ndisabled through A, {transport} sockets on B dropped after {delay:.3f} s")
        assert delay < GENEROUS_BOUND_SECONDS, f"dropped after {delay:.3f} s"
        with pytest.raises(socketio.exceptions.ConnectionError):
            Timed(second.url, tokens[name], transport)
    finally:
        for client in (on_b, also_b):
            client.close()
