"""Property tests (hypothesis) for the three places bad input enters: the search box's
query parser, the JSONL importer and money (amounts, cents, refund arithmetic).

Each property is one a customer, shop owner or agent relies on; ``tests/unit`` holds the
example-based tests of the same modules."""
from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from adapters.base import InvalidOrder, money
from adapters.demo_data import generate_orders
from adapters.orders_jsonl import dump_line, dump_order, parse_line, parse_order, read_jsonl
from console.actions import rules
from console.actions.models import from_cents, to_cents
from console.search.parser import parse_query

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=timezone.utc)
ORDERS = list(generate_orders(40, seed=5, now=NOW))

mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
# noise the way customers write around a fragment: words, Chinese, punctuation, spaces
noise = st.sampled_from(["", "hi", "我的手机", "手机号", "phone", "订单", "请查", "，", ",", "!",
                         "没到账", "please check"])
cents = st.integers(min_value=0, max_value=10**9)
two_places = cents.map(lambda c: Decimal(c).scaleb(-2))


# --- the query parser -------------------------------------------------------------------

@given(mobiles, noise, noise)
def test_a_full_mobile_number_is_always_read_as_a_phone(phone, before, after):
    parsed = parse_query(f"{before} {phone} {after}", now=NOW, tz=TZ)
    assert phone in parsed.phones
    assert phone in parsed.to_search_query().keys


# the addresses shops see (RFC 5322's exotic local parts are not typed into a search box)
emails = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,15}[a-z0-9]@[a-z0-9][a-z0-9-]{0,10}"
                       r"(\.[a-z]{2,6}){1,2}", fullmatch=True)


@given(emails, noise)
def test_an_email_is_always_read_as_an_email(email, around):
    assume(".." not in email and "-." not in email)
    parsed = parse_query(f"{around} {email}", now=NOW, tz=TZ)
    assert email.lower() in [e.lower() for e in parsed.emails]


@given(st.text(max_size=300))
def test_parsing_is_stable_on_its_own_normalised_text(text):
    once = parse_query(text, now=NOW, tz=TZ)
    again = parse_query(once.text, now=NOW, tz=TZ)
    assert again.text == once.text
    assert again.to_dict() == {**once.to_dict(), "truncated": again.truncated}


@given(st.text(max_size=300))
def test_every_amount_window_holds_its_value_and_dates_are_ordered(text):
    parsed = parse_query(text, now=NOW, tz=TZ)
    for amount in parsed.amounts:
        assert amount.low <= amount.value <= amount.high
        assert amount.low >= 0
    if parsed.created_from and parsed.created_to:
        assert parsed.created_from < parsed.created_to
        assert parsed.created_from.tzinfo is not None
    query = parsed.to_search_query(limit=10**9)
    assert 1 <= query.limit <= 1000


# --- JSONL import -----------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12)


@given(json_values)
def test_any_json_value_is_an_order_or_a_clear_invalid_order(value):
    try:
        order = parse_order(value)
    except InvalidOrder as exc:
        assert str(exc)
    else:
        assert parse_line(dump_line(order)) == order


@given(st.sampled_from(ORDERS), st.sampled_from(["amount_paid", "quantity", "created_at",
                                                  "status", "product", "order_no"]),
       json_values)
def test_spoiling_one_field_of_a_good_order_never_crashes_the_import(order, field, value):
    data = dump_order(order)
    data[field] = value
    try:
        parsed = parse_order(json.loads(json.dumps(data)))
    except InvalidOrder as exc:
        assert field.split("_")[0] in str(exc) or str(exc)
    else:
        assert parsed.order_no


@given(st.lists(st.tuples(st.sampled_from(ORDERS), st.booleans()), min_size=1, max_size=12),
       st.binary(max_size=40))
@settings(max_examples=60)
def test_a_file_of_good_and_bad_lines_reports_each_bad_line_and_loads_the_rest(lines, junk):
    content = io.BytesIO()
    expected_good: list[int] = []
    seen: set[str] = set()
    for number, (order, good) in enumerate(lines, start=1):
        if good:
            content.write(dump_line(order).encode() + b"\n")
            if order.order_no not in seen:
                expected_good.append(number)
                seen.add(order.order_no)
        else:
            content.write(b"{" + junk.replace(b"\n", b" ") + b"\n")
    content.seek(0)
    results = list(read_jsonl(content))
    good = [n for n, item in results if not isinstance(item, InvalidOrder)]
    bad = [n for n, item in results if isinstance(item, InvalidOrder)]
    assert good == expected_good
    assert sorted(good + bad) == [n for n, _ in results]
    assert len(results) == len(lines)


# --- money ------------------------------------------------------------------------------

@given(two_places)
def test_money_keeps_two_place_amounts_exactly(amount):
    assert money(str(amount)) == amount
    assert money(amount) == amount
    assert from_cents(to_cents(amount)) == amount
    assert to_cents(from_cents(to_cents(amount))) == to_cents(amount)


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_money_reads_floats_by_their_shortest_text_never_binary_noise(value):
    assert money(value) == Decimal(repr(value)).quantize(Decimal("0.01"))


@given(st.decimals(allow_nan=False, allow_infinity=False, places=3,
                   min_value=Decimal("-10"), max_value=Decimal("2000000")))
def test_an_agent_amount_is_accepted_only_when_positive_two_places_and_in_range(amount):
    valid = 0 < amount <= rules.MAX_AMOUNT and amount == amount.quantize(Decimal("0.01"))
    try:
        parsed = rules.parse_amount(str(amount))
    except rules.Invalid:
        assert not valid
    else:
        assert valid and parsed == amount


@given(st.sampled_from([o for o in ORDERS if o.status in ("delivered", "completed")]),
       two_places.filter(lambda d: 0 < d <= Decimal("500")),
       st.lists(two_places.filter(lambda d: 0 < d <= Decimal("300")), max_size=12))
def test_refunds_never_exceed_what_was_paid(order, paid, requests):
    order = replace(order, amount_paid=paid, refunded_amount=Decimal("0.00"))
    refunded = Decimal("0.00")
    for amount in requests:
        left = rules.refundable(order)
        refusal = rules.refusal_to_refund(order, amount, left)
        if amount > left:
            assert refusal is not None and refusal.code == "over_refund"
            continue
        assert refusal is None
        refunded += amount
        order = replace(order, refunded_amount=refunded)
        assert rules.refundable(order) == paid - refunded
    assert refunded <= paid
    assert rules.refundable(order) + refunded == paid
