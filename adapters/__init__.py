"""Order-store adapters: the console reaches a shop's orders only through these."""
from __future__ import annotations

from importlib import import_module

from adapters.base import OrderStore

# name -> "module:Class"; imported lazily so a missing optional driver only hurts its own store
STORES: dict[str, str] = {
    "sql": "adapters.sql.store:SqlOrderStore",
}


def build_order_store(kind: str, url: str) -> OrderStore:
    """The one place a concrete store is chosen, from configuration."""
    try:
        target = STORES[kind]
    except KeyError:
        raise ValueError(f"unknown order store {kind!r}; choose one of {', '.join(STORES)}") from None
    module_name, class_name = target.split(":")
    return getattr(import_module(module_name), class_name)(url)
