"""The configured order store, built once per application."""
from __future__ import annotations

from flask import Flask, current_app, g

from adapters import build_order_store
from adapters.base import OrderStore

EXTENSION_KEY = "kamidesk.store"


def init_store(app: Flask, store: OrderStore | None = None) -> None:
    """Attach the store; built lazily so a store that is down does not stop the console."""
    app.extensions[EXTENSION_KEY] = store

    @app.context_processor
    def store_state() -> dict:
        return {"store_down": store_down()}


def get_store() -> OrderStore:
    store = current_app.extensions.get(EXTENSION_KEY)
    if store is None:
        store = build_order_store(current_app.config["STORE"], current_app.config["STORE_URL"])
        current_app.extensions[EXTENSION_KEY] = store
    return store


def mark_store_down() -> None:
    """This request found the store unavailable: pages show the banner."""
    g.kamidesk_store_down = True


def store_down() -> bool:
    return bool(g.get("kamidesk_store_down"))
