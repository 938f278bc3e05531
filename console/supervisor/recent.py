"""A few seconds' memory of expensive dashboard answers, per process.

The dashboard asks for the same range several times at once (overall and per agent, per
hour, per day, the breach list) and supervisors reload it; figures a few seconds old are
fine there.  The live panel never goes through this: it must be current.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")


def database_key(session: Session) -> tuple[int, str]:
    """Which console DB an answer came from (the URL: an engine's id alone may be reused
    after it is garbage-collected)."""
    bind = session.get_bind()
    return id(bind), str(bind.engine.url)


class Recent(Generic[T]):
    def __init__(self, seconds: float, entries: int = 64) -> None:
        self.seconds, self.limit = seconds, entries
        self.lock = threading.Lock()
        self.entries: dict[Hashable, tuple[float, T]] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The remembered answer for ``key`` if still fresh, else ``compute()`` (kept)."""
        with self.lock:
            found = self.entries.get(key)
        if found is not None and found[0] > time.monotonic():
            return found[1]
        value = compute()
        with self.lock:
            if len(self.entries) >= self.limit:
                self.entries.clear()
            self.entries[key] = (time.monotonic() + self.seconds, value)
        return value
