"""Import refuses what the probe slipped in (a 4,000-character order number, NUL bytes, a
10 MB order), one clear error per line, while the good lines around them still load."""
from __future__ import annotations

import json

import pytest

from adapters.base import InvalidOrder
from adapters.orders_jsonl import MAX_LINE_BYTES, TEXT_LIMITS, dump_line, parse_line, read_jsonl
from tests.conftest import sample_orders
from tests.integration.test_cli import kamidesk, store_of


def record(order, **changes) -> dict:
    data = json.loads(dump_line(order))
    data.update(changes)
    return data


def test_import_refuses_overlong_nul_and_huge_orders_per_line(tmp_path):
    good = sample_orders(12, seed=5)
    attacks = {
        json.dumps(record(good[3], order_no="K" * 4000)): "order_no is too long",
        json.dumps(record(good[4], remark="hi\u0000there")): "remark contains a NUL",
        json.dumps(record(good[5], buyer={"phone": "1" * 33})): "buyer.phone is too long",
        json.dumps(record(good[6], remark="x" * (10 * 1024 * 1024))): "line is too long",
        json.dumps(record(good[7], tags=["t"] * 500)): "tags has too many items",
    }
    lines = [dump_line(o) for o in good[:3]] + list(attacks) + [dump_line(o) for o in good[8:]]
    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = kamidesk(tmp_path, "import-orders", str(path), "--quiet")

    assert result.returncode == 1
    errors = [e for e in result.stderr.splitlines() if e.startswith(str(path))]
    assert len(errors) == len(attacks)
    for number, expected in enumerate(attacks.values(), start=4):
        line = next(e for e in errors if e.startswith(f"{path}:{number}:"))
        assert expected in line, line
        assert len(line) < 300  # the error names the problem, it does not echo the payload
    assert store_of(tmp_path).count() == 3 + len(good[8:])


@pytest.mark.parametrize("field,path", [
    ("order_no", ("order_no",)), ("buyer.account", ("buyer", "account")),
    ("buyer.email", ("buyer", "email")), ("recipient_account", ("recipient_account",)),
    ("payment.payer", ("payment", "payer")), ("product.name", ("product", "name")),
])
def test_every_text_field_has_its_cap(field, path):
    order = next(o for o in sample_orders(40, seed=9) if o.payment is not None)
    data = json.loads(dump_line(order))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "a" * TEXT_LIMITS[field]
    parse_line(json.dumps(data))  # exactly at the cap: accepted
    target[path[-1]] = "a" * (TEXT_LIMITS[field] + 1)
    with pytest.raises(InvalidOrder, match=f"{field} is too long"):
        parse_line(json.dumps(data))


def test_a_huge_line_is_not_held_whole(tmp_path):
    path = tmp_path / "big.jsonl"
    with path.open("wb") as handle:
        handle.write(b'{"order_no": "' + b"9" * (20 * MAX_LINE_BYTES) + b'"}\n')
        handle.write(dump_line(sample_orders(1)[0]).encode() + b"\n")
    results = list(read_jsonl(path))
    assert [n for n, _ in results] == [1, 2]
    assert isinstance(results[0][1], InvalidOrder) and "too long" in str(results[0][1])
    assert not isinstance(results[1][1], InvalidOrder)
