"""Flood control for one socket connection: a token bucket, plain Python, clock passed in."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TokenBucket:
    """``capacity`` messages at once, then ``rate`` per second; refusals say how long to wait.

    A bucket rather than a fixed window so a customer's queued offline messages (sent in a
    burst on reconnect) pass, while a script hammering the socket is slowed to ``rate``.
    """

    capacity: float
    rate: float
    tokens: float = -1.0
    stamp: float = 0.0

    def take(self, now: float) -> float:
        """Spend one token: 0.0 when allowed, else the seconds until one is available."""
        if self.tokens < 0:
            self.tokens, self.stamp = self.capacity, now
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return round((1.0 - self.tokens) / self.rate, 3)


CUSTOMER_MESSAGES = (10, 1.0)
AGENT_MESSAGES = (20, 4.0)
TYPING = (6, 2.0)
