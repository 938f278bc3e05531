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


class Checked(Generic[T]):
    """Answers kept while a check value the database gives cheaply (a count and a version
    sum, say) stays the same: never stale, only recomputed when what they came from moved.
    The oldest entries go first past ``entries``."""

    def __init__(self, entries: int = 4096) -> None:
        self.limit = entries
        self.lock = threading.Lock()
        self.entries: dict[Hashable, tuple[Hashable, T]] = {}

    def get(self, key: Hashable, check: Hashable, compute: Callable[[], T],
            keep: Callable[[T], bool] = lambda value: True) -> T:
        """The kept answer for ``key`` if made under ``check``, else ``compute()`` (kept
        when ``keep`` says so)."""
        with self.lock:
            found = self.entries.get(key)
        if found is not None and found[0] == check:
            return found[1]
        value = compute()
        if not keep(value):
            return value
        with self.lock:
            self.entries.pop(key, None)
            while len(self.entries) >= self.limit:
                self.entries.pop(next(iter(self.entries)))
            self.entries[key] = (check, value)
        return value
