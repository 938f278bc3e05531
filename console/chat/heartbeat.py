"""Engine.IO pings at slightly random intervals, so a thousand sockets do not ping together.

Engine.IO pings each client ``ping_interval`` seconds after its last pong.  When many
clients connect at once (a worker restarts and every widget reconnects within a second),
their pings stay in step for as long as they stay connected: every 25 s the worker must
send a thousand pings and read a thousand pongs in the same second, and chat messages
queue behind them.  In the chat benchmark that one second held almost every message slower
than 50 ms.  Pinging after a random 75-100% of the interval spreads the wave out within a
few cycles; clients only need a ping *within* interval + timeout, so an early one is fine.
python-engineio has no option for this, hence the replacement of its one scheduling method.
"""
from __future__ import annotations

import random
import time

from engineio import packet
from engineio import socket as engineio_socket

EARLIEST = 0.75  # of the ping interval


def _send_ping(self) -> None:
    self.server.sleep(self.server.ping_interval * random.uniform(EARLIEST, 1.0))
    if not self.closing and not self.closed:
        self.last_ping = time.time()
        self.send(packet.Packet(packet.PING))


def spread_pings() -> None:
    """Use the jittered schedule for every Engine.IO socket in this process."""
    engineio_socket.Socket._send_ping = _send_ping
