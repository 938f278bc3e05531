"""Bulk loading into the reference store, on SQLite and PostgreSQL.

A load into an empty store drops the secondary indexes and builds them at the
end; the orders read back exactly as loaded, search finds them, and loading the
same orders again (or a changed copy) stays an upsert.  ``import_file`` shows a
progress bar and reports bad lines by number.
"""
from __future__ import annotations

import io
from contextlib import redirect_stderr
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import inspect

from adapters import build_order_store
from adapters.base import SearchQuery
from adapters.orders_jsonl import dump_line
from adapters.sql.loader import BULK_TABLES, Loader
from console.importing import import_file
from tests.conftest import sample_orders


@pytest.fixture(scope="module")
def orders():
    return sample_orders(1200, seed=31)


@pytest.fixture
def store(store_url):
    store = build_order_store("sql", store_url)
    yield store
    store.close()


def as_stored(order):
    """Tags come back in the store's order (sorted); everything else exactly."""
    return replace(order, tags=tuple(sorted(order.tags)))


def read_back(store, order):
    return as_stored(store.get(order.order_no))


def index_names(store) -> set[str]:
    found = set()
    inspector = inspect(store.engine)
    for table in BULK_TABLES:
        found |= {ix["name"] for ix in inspector.get_indexes(table.name)}
    return found


def declared_indexes() -> set[str]:
    return {index.name for table in BULK_TABLES for index in table.indexes}


def test_a_bulk_load_reads_back_exactly_and_keeps_every_index(store, orders):
    loaded = store.load(orders)
    assert loaded == len(orders) == store.count()
    for order in orders[::97]:
        assert read_back(store, order) == as_stored(order)
    assert declared_indexes() <= index_names(store)
    with_key = next(o for o in orders if o.card_keys and o.payment and o.buyer.phone)
    for query in (SearchQuery(keys=(with_key.payment.transaction_id,)),
                  SearchQuery(phone_tails=(with_key.buyer.phone[-4:],)),
                  SearchQuery(codes=("".join(c for c in with_key.card_keys[0].secret
                                             if c.isalnum())[2:10].upper(),))):
        found = [c.summary.order_no for c in store.search(query)]
        assert with_key.order_no in found, query


def test_a_second_load_is_an_upsert_not_a_bulk_load(store, orders):
    store.load(orders[:600])
    changed = [replace(o, status="refunded", refunded_amount=o.amount_paid)
               for o in orders[:50]]
    loader = Loader(store.engine)
    assert loader.load([*changed, *orders[600:]]) == 50 + 600
    assert loader.bulk is False
    assert store.count() == len(orders)
    assert store.get(orders[0].order_no).status == "refunded"
    assert store.get(orders[0].order_no).refunded_amount == orders[0].amount_paid
    assert read_back(store, orders[700]) == as_stored(orders[700])
    store.load(orders)  # the same orders again: nothing changes
    assert store.count() == len(orders)
    assert [read_back(store, o) for o in orders[::150]] == [as_stored(o) for o in orders[::150]]


def test_repeated_order_numbers_in_one_batch_keep_the_last(store, orders):
    twice = [orders[0], replace(orders[0], remark="second copy"), *orders[1:10]]
    store.load(twice)
    assert store.count() == 10
    assert store.get(orders[0].order_no).remark == "second copy"


def test_import_file_shows_progress_and_reports_bad_lines(store, orders, tmp_path):
    path = tmp_path / "orders.jsonl"
    lines = [dump_line(o) for o in orders[:300]]
    lines[7] = '{"order_no": "X1", "amount_paid": "-1"}'
    lines[150] = "not json"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    shown = io.StringIO()
    with redirect_stderr(shown):
        report = import_file(store, path, progress=True)
    assert report.loaded == 298
    assert [n for n, _ in report.errors] == [8, 151]
    bar = shown.getvalue()
    assert "orders=" in bar and "B/s" in bar and "100%" in bar
    assert store.count() == 298
    again = import_file(store, path, progress=False)
    assert again.loaded == 298 and store.count() == 298
    assert store.get(orders[0].order_no).amount_paid == orders[0].amount_paid
    assert store.get(orders[0].order_no).amount_paid >= Decimal("0")


def test_long_load_statements_are_not_cut_by_the_store_statement_timeout(store, orders):
    """The store's engine bounds every statement (a search must never hang); loading and
    indexing must not be bounded, or a big import would fail half-way."""
    from adapters.sql.loader import long_work

    with store.engine.begin() as conn:
        long_work(conn)
        if conn.dialect.name == "postgresql":
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
            conn.exec_driver_sql("SELECT pg_sleep(0.01)")
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # other transactions keep the bound
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() != "0"
    assert store.load(orders[:100]) == 100
