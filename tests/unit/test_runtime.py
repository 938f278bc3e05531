"""Settings of a serving process: collector thresholds and the ping schedule."""
from __future__ import annotations

import statistics

import pytest

from console.chat import heartbeat
from console.runtime import DEFAULT_GC_THRESHOLDS, parse_gc_thresholds


@pytest.mark.parametrize("raw, expected", [
    (None, (5000, 50, 50)), (DEFAULT_GC_THRESHOLDS, (5000, 50, 50)),
    (" 700, 10 ,10 ", (700, 10, 10)), ("off", None), ("OFF", None), ("default", None),
])
def test_thresholds_are_read(raw, expected):
    assert parse_gc_thresholds(raw) == expected


@pytest.mark.parametrize("raw", ["2000,50", "a,b,c", "0,10,10", "-1,10,10", "1,2,3,4", "1.5,2,3"])
def test_bad_thresholds_name_the_setting(raw):
    with pytest.raises(ValueError, match="KAMIDESK_GC_THRESHOLDS"):
        parse_gc_thresholds(raw)


class _Server:
    ping_interval = 20

    def __init__(self) -> None:
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


class _Socket:
    closing = closed = False
    last_ping = None

    def __init__(self) -> None:
        self.server = _Server()
        self.sent: list = []

    def send(self, packet) -> None:
        self.sent.append(packet)


def test_pings_wait_between_three_quarters_and_all_of_the_interval():
    socket = _Socket()
    for _ in range(200):
        heartbeat._send_ping(socket)
    waits = socket.server.slept
    assert all(15 <= wait <= 20 for wait in waits)
    assert statistics.pstdev(waits) > 1  # spread out, not one fixed delay
    assert len(socket.sent) == 200 and socket.last_ping is not None


def test_no_ping_after_the_socket_closed():
    socket = _Socket()
    socket.closed = True
    heartbeat._send_ping(socket)
    assert socket.sent == []
