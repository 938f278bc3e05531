"""``kamidesk import-orders`` through the reference store's parallel path (worker
processes parse stretches of the file, the main process writes them in order), on
SQLite and PostgreSQL: the same orders, line numbers, repeats and upserts as the
one-process path, with stretches small enough that many are in flight at once."""
from __future__ import annotations

from dataclasses import replace

import pytest

from adapters import build_order_store
from adapters.base import SearchQuery
from adapters.orders_jsonl import dump_line
from adapters.sql import bulk
from adapters.sql.search_rows import normalise_code
from tests.conftest import sample_orders

SMALL = 16 * 1024  # about ten orders a stretch


@pytest.fixture(scope="module")
def orders():
    return sample_orders(400, seed=47)


@pytest.fixture
def store(store_url):
    store = build_order_store("sql", store_url)
    yield store
    store.close()


def write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def load(store, path, workers=2):
    loaded, errors = bulk.load_jsonl(store.engine, path, workers=workers, chunk_bytes=SMALL)
    from adapters.sql.retrieval import refresh_search_index
    refresh_search_index(store.engine)
    return loaded, errors


def test_stretches_cover_the_file_and_end_after_a_newline(tmp_path, orders):
    path = write(tmp_path / "o.jsonl", [dump_line(o) for o in orders[:100]])
    data = path.read_bytes()
    ranges = list(bulk.stretches(path, SMALL))
    assert len(ranges) > 5
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    assert all(data[end - 1:end] == b"\n" for _, end in ranges)


def test_workers_load_every_order_exactly_and_report_lines_of_the_whole_file(
        store, orders, tmp_path):
    lines = [dump_line(o) for o in orders]
    lines[3] = '{"order_no": "BAD-1", "amount_paid": "-1"}'
    lines[250] = "not json"
    lines.insert(300, dump_line(replace(orders[10], remark="a later copy")))  # line 301
    lines.insert(120, "")  # a blank line still counts
    path = write(tmp_path / "o.jsonl", lines)
    loaded, errors = load(store, path)
    assert loaded == len(orders) - 2 == store.count()
    assert [n for n, _ in errors] == [4, 252, 302]
    assert errors[2][1] == f"duplicate order_no {orders[10].order_no}, first seen on line 11"
    assert store.get(orders[10].order_no).remark == orders[10].remark  # the first stands
    for order in orders[5::37]:
        got = store.get(order.order_no)
        assert replace(got, tags=tuple(sorted(got.tags))) == replace(
            order, tags=tuple(sorted(order.tags)))


def test_a_repeat_in_the_same_stretch_names_its_first_line(store, orders, tmp_path):
    path = write(tmp_path / "o.jsonl", [dump_line(orders[0]), dump_line(orders[0])])
    loaded, errors = load(store, path, workers=1)
    assert loaded == 1
    assert errors == [(2, f"duplicate order_no {orders[0].order_no}, first seen on line 1")]


def test_what_the_workers_loaded_is_found_by_search(store, orders, tmp_path):
    load(store, write(tmp_path / "o.jsonl", [dump_line(o) for o in orders]))
    keyed = [o for o in orders if o.card_keys and o.payment and o.buyer.phone][:5]
    assert keyed
    for order in keyed:
        piece = normalise_code(order.card_keys[0].secret)[2:10]
        for query in (SearchQuery(keys=(order.payment.transaction_id,)),
                      SearchQuery(phone_tails=(order.buyer.phone[-4:],)),
                      SearchQuery(codes=(piece,)),
                      SearchQuery(keys=(order.card_keys[0].secret,))):
            assert order.order_no in [c.summary.order_no for c in store.search(query)], query


def test_running_the_same_file_again_is_an_upsert(store, orders, tmp_path):
    first = write(tmp_path / "a.jsonl", [dump_line(o) for o in orders[:200]])
    load(store, first)
    changed = [replace(o, status="refunded", refunded_amount=o.amount_paid,
                       recipient_account="upsert-recipient-77") for o in orders[:30]]
    second = write(tmp_path / "b.jsonl", [dump_line(o) for o in [*changed, *orders[30:]]])
    loaded, errors = load(store, second)
    assert errors == [] and loaded == len(orders) and store.count() == len(orders)
    assert store.get(orders[0].order_no).status == "refunded"
    found = store.search(SearchQuery(keys=("upsert-recipient-77",)))
    assert {c.summary.order_no for c in found} >= {o.order_no for o in orders[:30]}
    loaded, _ = load(store, second)  # and once more: nothing changes
    assert loaded == len(orders) and store.count() == len(orders)
    assert store.get(orders[0].order_no).refunded_amount == orders[0].amount_paid
