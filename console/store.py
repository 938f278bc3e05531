"""The configured order store, built once per application, and whether it is answering.

Every call to the store goes through ``WatchedStore``, which notes whether the store
answered or raised ``StoreUnavailable``.  Pages read that note (``store_outage`` in every
template) to show agents a banner while the shop's database or API is down: searches and
order details fail with a clear message, chat (which needs only the console DB) goes on.
"""
from __future__ import annotations

import functools
import threading
from datetime import datetime, timezone
from typing import Any, cast

from flask import Flask, current_app

from adapters import build_order_store, store_indexes_ddl
from adapters.base import OrderStore, StoreUnavailable

EXTENSION_KEY = "kamidesk.store"
STATUS_KEY = "kamidesk.store_status"


class StoreStatus:
    """The last thing the store did: answered, or was unavailable (since when, and why)."""

    def __init__(self) -> None:
        self.down_since: datetime | None = None
        self.reason: str | None = None
        self._lock = threading.Lock()

    def failed(self, exc: StoreUnavailable) -> None:
        with self._lock:
            self.down_since = self.down_since or datetime.now(timezone.utc)
            self.reason = exc.message

    def answered(self) -> None:
        if self.down_since is not None:
            with self._lock:
                self.down_since, self.reason = None, None

    @property
    def down(self) -> bool:
        return self.down_since is not None


class WatchedStore:
    """The configured store; each call reports to ``status`` whether the store answered."""

    def __init__(self, inner: OrderStore, status: StoreStatus) -> None:
        self._inner, self._status = inner, status

    @property
    def wrapped(self) -> OrderStore:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if not callable(value):
            return value

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = value(*args, **kwargs)
            except StoreUnavailable as exc:
                self._status.failed(exc)
                raise
            self._status.answered()
            return result
        return call


def init_store(app: Flask, store: OrderStore | None = None) -> None:
    """Attach the store; built lazily so a store that is down does not stop the console."""
    status = StoreStatus()
    app.extensions[STATUS_KEY] = status
    app.extensions[EXTENSION_KEY] = WatchedStore(store, status) if store is not None else None
    # the console checks the store's health through the wrapper, never around it

    @app.context_processor
    def store_outage() -> dict:
        return {"store_outage": status.reason if status.down else None}


def store_status() -> StoreStatus:
    return current_app.extensions[STATUS_KEY]


def get_store() -> OrderStore:
    """The app's store (a ``WatchedStore`` that behaves as the configured one)."""
    store = current_app.extensions.get(EXTENSION_KEY)
    if store is None:
        config = current_app.config
        try:
            built = build_order_store(config["STORE"], config["STORE_URL"],
                                      token=config.get("STORE_TOKEN"))
        except StoreUnavailable as exc:
            store_status().failed(exc)
            raise
        store = WatchedStore(built, store_status())
        current_app.extensions[EXTENSION_KEY] = store
    return cast(OrderStore, store)


def operator_ddl(kind: str) -> str:
    """What ``kamidesk store-indexes`` prints: the DDL the operator adds to this kind of store."""
    return store_indexes_ddl(kind)
