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


def _store_class(kind: str) -> type:
    try:
        target = STORES[kind]
    except KeyError:
        raise ValueError(f"unknown order store {kind!r}; choose one of {', '.join(STORES)}") from None
    module_name, class_name = target.split(":")
    return getattr(import_module(module_name), class_name)


def build_order_store(kind: str, url: str, **options: object) -> OrderStore:
    """The one place a concrete store is chosen, from configuration.

    ``options`` are the settings only some stores take (the HTTP store's ``token``); those
    left ``None`` are not passed on.
    """
    given = {name: value for name, value in options.items() if value is not None}
    return _store_class(kind)(url, **given)


def store_indexes_ddl(kind: str) -> str:
    """The DDL an operator should add to a store of ``kind`` (``kamidesk store-indexes``).

    A store class offers it as ``indexes_ddl()``; stores that make their own indexes (the
    reference store) or have no database here (http) have nothing to add.
    """
    ddl = getattr(_store_class(kind), "indexes_ddl", None)
    if ddl is None:
        return f"-- the {kind} store needs no indexes from you: nothing to add"
    return ddl()
