"""The adapters the contract suite runs against, each on a real server.

``adapter`` is parametrised with ids that name the adapter, so
``pytest tests/contract -k dujiaoka`` or ``-k http`` runs one adapter's share:

* ``sql-sqlite``, ``sql-postgres``: the reference store;
* ``dujiaoka``: a dujiaoka database on MariaDB with only dujiaoka's own indexes, and
  ``dujiaoka-indexed`` with the indexes ``kamidesk store-indexes`` prints;
* ``http``: ``HttpOrderStore`` against the reference shop API on loopback (tests/shop_api),
  itself backed by the reference store on SQLite.

A ``Harness`` carries what each adapter's tests need besides the store: the orders as the
adapter can hold them (``expected``), the fragment kinds it can find, and how to put
unsold card keys on its shelf.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pytest

from adapters import build_order_store
from adapters.base import CardKey, Order, OrderStore, Product
from tests.conftest import sample_orders
from tests.order_factory import PRODUCTS

ADAPTERS = ("sql-sqlite", "sql-postgres", "dujiaoka", "dujiaoka-indexed", "http")
ALL_KINDS = frozenset({"order_no", "transaction_id", "phone", "email", "serial", "ip",
                       "phone_tail", "email_prefix", "email_middle", "amount_date"})


@dataclass
class Harness:
    name: str
    store: OrderStore
    orders: list[Order]
    kinds: frozenset[str]
    add: Callable[[Iterable[Order]], None]
    stock: Callable[[Product, int], list[str]]
    expected: Callable[[Order], Order] = lambda order: order
    exact_filters: bool = True
    extra: dict = field(default_factory=dict)

    def view(self, order: Order) -> Order:
        return self.expected(order)


def _sql_stock(store) -> Callable[[Product, int], list[str]]:
    counter = iter(range(10**6))

    def stock(product: Product, count: int) -> list[str]:
        store.add_products([product])
        batch = next(counter)
        serials = [f"NEW{batch}-{product.sku}-{i:03d}" for i in range(count)]
        store.add_inventory((product.sku, CardKey(s, s + "-SECRET", "unsold")) for s in serials)
        return serials
    return stock


def _sql_harness(name: str, url: str, orders: list[Order]) -> Iterator[Harness]:
    store = build_order_store("sql", url)
    store.add_products(PRODUCTS)
    store.load(orders)
    try:
        yield Harness(name, store, orders, ALL_KINDS, store.load, _sql_stock(store))
    finally:
        store.close()


def _dujiaoka_harness(name: str, mariadb_url: str, orders: list[Order],
                      indexed: bool) -> Iterator[Harness]:
    from tests.dujiaoka.shop import DujiaokaShop, fresh_dujiaoka_database

    with fresh_dujiaoka_database(mariadb_url, indexed=indexed) as url:
        shop = DujiaokaShop(url)
        for product in PRODUCTS:
            shop.goods_id(product)
        shop.add_orders(orders)
        store = build_order_store("dujiaoka", url)
        counter = iter(range(10**6))

        def stock(product: Product, count: int) -> list[str]:
            batch = next(counter)
            serials = [f"NEW{batch}-{product.sku}-{i:03d}" for i in range(count)]
            shop.add_carmis(product, [f"{s}----{s}-SECRET" for s in serials])
            return serials

        kinds = {"order_no", "email", "email_prefix", "amount_date"}
        if indexed:
            kinds |= {"transaction_id", "ip", "serial"}
        try:
            yield Harness(name, store, orders, frozenset(kinds), shop.add_orders, stock,
                          expected=shop.expected, extra={"shop": shop})
        finally:
            store.close()
            shop.close()


def _http_harness(name: str, tmp_path, orders: list[Order]) -> Iterator[Harness]:
    from tests.shop_api.server import TOKEN, running_shop_api

    backing = build_order_store("sql", f"sqlite:///{tmp_path / 'shop.db'}")
    backing.add_products(PRODUCTS)
    backing.load(orders)
    with running_shop_api(backing) as (api, url):
        store = build_order_store("http", url, token=TOKEN)
        try:
            yield Harness(name, store, orders, ALL_KINDS, backing.load, _sql_stock(backing),
                          extra={"api": api, "backing": backing, "url": url})
        finally:
            store.close()
            backing.close()


@pytest.fixture(scope="module")
def contract_orders() -> list[Order]:
    return sample_orders(240, seed=11)


@pytest.fixture(params=ADAPTERS)
def adapter(request, tmp_path, contract_orders) -> Iterator[Harness]:
    name = request.param
    if name == "sql-sqlite":
        yield from _sql_harness(name, f"sqlite:///{tmp_path / 'store.db'}", contract_orders)
    elif name == "sql-postgres":
        yield from _sql_harness(name, request.getfixturevalue("pg_store_url"), contract_orders)
    elif name.startswith("dujiaoka"):
        yield from _dujiaoka_harness(name, request.getfixturevalue("mariadb_url"),
                                     contract_orders, indexed=name.endswith("indexed"))
    else:
        yield from _http_harness(name, tmp_path, contract_orders)


def needs(harness: Harness, kind: str) -> None:
    """Skip a fragment kind the adapter cannot find (dujiaoka has no phones, for one)."""
    if kind not in harness.kinds:
        pytest.skip(f"{harness.name} cannot search by {kind}")
