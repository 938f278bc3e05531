"""Order-store adapters: the console reaches a shop's orders only through these."""
from __future__ import annotations

from importlib import import_module

from adapters.base import OrderStore

# name -> "module:Class"; imported lazily so a missing optional driver only hurts its own store
STORES: dict[str, str] = {
    "sql": "adapters.sql.store:SqlOrderStore",
    "dujiaoka": "adapters.dujiaoka:DujiaokaStore",
    "http": "adapters.http:HttpOrderStore",
}


def build_order_store(kind: str, url: str, **options: object) -> OrderStore:
    """The one place a concrete store is chosen, from configuration.

    ``options`` are the settings only some stores take (the HTTP store's ``token``); those
    left ``None`` are not passed on.
    """
    try:
        target = STORES[kind]
    except KeyError:
        raise ValueError(f"unknown order store {kind!r}; choose one of {', '.join(STORES)}") from None
    module_name, class_name = target.split(":")
    given = {name: value for name, value in options.items() if value is not None}
    return getattr(import_module(module_name), class_name)(url, **given)
