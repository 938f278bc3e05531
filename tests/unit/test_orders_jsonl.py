"""The order JSONL codec: every refusal is specific, and dump/parse round-trips."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import (
    CARD_KEY_STATES,
    CATEGORIES,
    STATUSES,
    Buyer,
    CardKey,
    InvalidOrder,
    Order,
    OrderEvent,
    PaymentProof,
    Product,
)
from adapters.orders_jsonl import (
    MAX_QUANTITY,
    dump_line,
    dump_order,
    parse_line,
    parse_order,
    read_jsonl,
    write_jsonl,
)

UTC = timezone.utc


def record(**changes: object) -> dict:
    """A valid order record in the external schema; ``changes`` override or (None) drop keys."""
    data: dict = {
        "order_no": "KD202611250384019265",
        "created_at": "2026-11-25T20:15:03+08:00",
        "paid_at": "2026-11-25T20:15:40+08:00",
        "status": "delivered",
        "product": {"sku": "QB-100", "name": "腾讯Q币100元卡密", "category": "game_card"},
        "quantity": 1,
        "face_value": "100.00",
        "amount_paid": "98.50",
        "currency": "CNY",
        "buyer": {"account": "zhangwei", "phone": "13812345678", "email": "12345678@qq.com"},
        "recipient_account": None,
        "buyer_ip": "113.88.12.7",
        "region": "广东",
        "operator": "中国移动",
        "supplier": "蓝鲸卡券",
        "payment": {"channel": "alipay", "transaction_id": "2026112522001412345678901234",
                    "payer": "张伟 138****5678", "amount": "98.50",
                    "paid_at": "2026-11-25T20:15:40+08:00", "proof_url": None},
        "card_keys": [{"serial": "1234567890", "secret": "5566778899001122",
                       "status": "delivered"}],
        "events": [{"at": "2026-11-25T20:15:03+08:00", "kind": "created", "detail": ""},
                   {"at": "2026-11-25T20:15:40+08:00", "kind": "paid", "detail": "alipay"}],
        "remark": "请尽快发货",
        "tags": ["repeat buyer"],
    }
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def line(**changes: object) -> str:
    return json.dumps(record(**changes), ensure_ascii=False)


def refusal(data: object) -> str:
    with pytest.raises(InvalidOrder) as caught:
        parse_order(data) if isinstance(data, dict) else parse_line(data)  # type: ignore[arg-type]
    return str(caught.value)


# --- good input --------------------------------------------------------------

def test_a_full_record_parses_into_domain_objects():
    order = parse_line(line())
    assert order.order_no == "KD202611250384019265"
    assert order.created_at == datetime(2026, 11, 25, 12, 15, 3, tzinfo=UTC)
    assert order.created_at.tzinfo is UTC
    assert order.product == Product("QB-100", "腾讯Q币100元卡密", "game_card")
    assert order.amount_paid == Decimal("98.50")
    assert order.face_value == Decimal("100.00")
    assert order.discount == Decimal("1.50")
    assert order.buyer == Buyer("zhangwei", "13812345678", "12345678@qq.com")
    assert order.payment == PaymentProof(
        "alipay", "2026112522001412345678901234", "张伟 138****5678", Decimal("98.50"),
        datetime(2026, 11, 25, 12, 15, 40, tzinfo=UTC), None)
    assert order.card_keys == (CardKey("1234567890", "5566778899001122", "delivered"),)
    assert [e.kind for e in order.events] == ["created", "paid"]
    assert order.tags == ("repeat buyer",)
    assert order.refunded_amount == Decimal("0.00")


def test_minimal_record_fills_optional_fields_with_none_or_empty():
    order = parse_order({"order_no": "A1", "status": "paid", "created_at": "2026-01-01T00:00:00Z",
                         "product": {"sku": "X", "name": "x", "category": "other"},
                         "amount_paid": "1.00"})
    assert order.quantity == 1 and order.currency == "CNY"
    assert order.buyer == Buyer() and order.payment is None
    assert order.card_keys == () and order.events == () and order.tags == ()
    assert order.paid_at is None and order.updated_at is None and order.face_value is None
    assert order.discount == Decimal("0.00")


def test_unknown_keys_are_ignored():
    assert parse_order(record(shop_extra={"a": 1}, coupon="X")) == parse_order(record())


def test_empty_optional_strings_read_as_none():
    order = parse_order(record(remark="", buyer={"account": "", "phone": "13812345678"}))
    assert order.remark is None and order.buyer.account is None


def test_optional_extras_are_read():
    order = parse_order(record(refunded_amount="10.00", search_password="ab12cd",
                               updated_at="2026-11-26T01:00:00+00:00"))
    assert order.refunded_amount == Decimal("10.00")
    assert order.search_password == "ab12cd"
    assert order.updated_at == datetime(2026, 11, 26, 1, tzinfo=UTC)


@pytest.mark.parametrize("raw, expected", [
    ("98.50", "98.50"), ("98.5", "98.50"), ("98", "98.00"), (" 7.10 ", "7.10"), ("0", "0.00"),
    (98, "98.00"), (Decimal("98.5"), "98.50"), (98.5, "98.50"), (0.1, "0.10"), ("-0.00", "0.00"),
])
def test_money_accepts_strings_integers_and_exact_decimals(raw, expected):
    order = parse_order(record(amount_paid=raw, face_value=None))
    assert order.amount_paid == Decimal(expected)
    assert str(order.amount_paid) == expected


def test_json_decimal_numbers_are_read_exactly_not_through_float():
    order = parse_line(line().replace('"amount_paid": "98.50"', '"amount_paid": 0.29'))
    assert order.amount_paid == Decimal("0.29")


def test_discount_is_face_times_quantity_minus_paid():
    order = parse_order(record(quantity=3, face_value="50.00", amount_paid="141.00"))
    assert order.discount == Decimal("9.00")


def test_discount_is_never_negative_when_price_exceeds_face():
    assert parse_order(record(amount_paid="101.00")).discount == Decimal("0.00")


def test_discount_is_zero_without_a_positive_face_value():
    assert parse_order(record(face_value=None)).discount == Decimal("0.00")
    assert parse_order(record(face_value="0")).discount == Decimal("0.00")


def test_explicit_discount_wins():
    assert parse_order(record(discount="5.00")).discount == Decimal("5.00")


def test_times_with_any_offset_become_utc():
    order = parse_order(record(created_at="2026-11-25T07:15:03-05:00"))
    assert order.created_at == datetime(2026, 11, 25, 12, 15, 3, tzinfo=UTC)
    assert order.created_at.utcoffset() == timedelta(0)


def test_card_key_without_serial_or_status():
    order = parse_order(record(card_keys=[{"secret": "ABCD-EFGH"}]))
    assert order.card_keys == (CardKey("", "ABCD-EFGH", "delivered"),)


def test_quantity_written_as_integral_decimal_is_accepted():
    assert parse_line(line().replace('"quantity": 1', '"quantity": 2.0')).quantity == 2


def test_bytes_and_bom_and_crlf():
    raw = ("\ufeff" + line() + "\r\n").encode("utf-8")
    assert parse_line(raw) == parse_line(line())


# --- bad input ---------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ('{"order_no": "A1",', "malformed JSON"),
    ("not json", "malformed JSON"),
    ("[1, 2]", "not a JSON object, got a list"),
    ('"KD1"', "not a JSON object, got a string"),
    ("", "line is empty"),
    ("   ", "line is empty"),
    ('{"order_no": "A1", "amount_paid": NaN}', "NaN is not allowed"),
    ('{"order_no": "A\\ud800"}', "unpaired UTF-16 surrogate"),
    ("[" * 100_000 + "]" * 100_000, "malformed JSON"),
])
def test_malformed_lines_are_refused(text, expected):
    assert expected in refusal(text)


def test_bytes_that_are_not_utf8_are_refused():
    message = refusal(line().encode("utf-8").replace(b"QB-100", b"QB-\xff00"))
    assert "not valid UTF-8" in message and "position" in message


def test_gbk_encoded_line_is_refused():
    assert "not valid UTF-8" in refusal(line().encode("gbk"))


@pytest.mark.parametrize("changes, expected", [
    ({"order_no": None}, "order_no is missing"),
    ({"order_no": ""}, "order_no is empty"),
    ({"order_no": "   "}, "order_no is empty"),
    ({"order_no": 12345}, "order_no must be a string, got a number 12345"),
    ({"status": None}, "status is missing"),
    ({"status": "shipped"}, "status 'shipped' is not one of: pending_payment"),
    ({"created_at": None}, "created_at is missing"),
    ({"created_at": "yesterday"}, "created_at is not an ISO-8601 time: 'yesterday'"),
    ({"created_at": "2026-11-25T20:15:03"}, "created_at has no UTC offset"),
    ({"created_at": "2026-11-25"}, "created_at has no UTC offset"),
    ({"created_at": 1764072903}, "created_at must be an ISO-8601 string, got a number"),
    ({"paid_at": "2026-13-01T00:00:00Z"}, "paid_at is not an ISO-8601 time"),
    ({"updated_at": "2026-11-25 10:00"}, "updated_at has no UTC offset"),
    ({"product": None}, "product is missing"),
    ({"product": "QB-100"}, "product must be an object, got a string"),
    ({"product": {"name": "x", "category": "other"}}, "product.sku is missing"),
    ({"product": {"sku": "X", "category": "other"}}, "product.name is missing"),
    ({"product": {"sku": "X", "name": "x", "category": "toys"}},
     "product.category 'toys' is not one of: game_card"),
    ({"product": {"sku": "X", "name": "x"}}, "product.category is missing"),
    ({"product": {"sku": "X", "name": "x", "category": "other", "face_value": "-5"}},
     "product.face_value must not be negative"),
    ({"quantity": "two"}, "quantity must be an integer, got a string 'two'"),
    ({"quantity": 1.5}, "quantity must be an integer, got a number 1.5"),
    ({"quantity": True}, "quantity must be an integer, got a boolean"),
    ({"quantity": 0}, "quantity must be at least 1, got 0"),
    ({"quantity": -3}, "quantity must be at least 1, got -3"),
    ({"quantity": MAX_QUANTITY + 1}, "quantity is too large"),
    ({"amount_paid": None}, "amount_paid is missing"),
    ({"amount_paid": "-1.00"}, "amount_paid must not be negative"),
    ({"amount_paid": -1}, "amount_paid must not be negative"),
    ({"amount_paid": "12,50"}, "amount_paid must be money like \"12.34\", got '12,50'"),
    ({"amount_paid": "¥12.50"}, "amount_paid must be money like"),
    ({"amount_paid": "1e3"}, "amount_paid must be money like"),
    ({"amount_paid": "abc"}, "amount_paid must be money like"),
    ({"amount_paid": True}, "amount_paid must be money like \"12.34\", got a boolean"),
    ({"amount_paid": [1]}, "amount_paid must be money like \"12.34\", got a list"),
    ({"amount_paid": "12.345"}, "amount_paid has more than two decimal places: '12.345'"),
    ({"amount_paid": "9" * 40}, "amount_paid is too large"),
    ({"face_value": "lots"}, "face_value must be money like"),
    ({"discount": "-1.00"}, "discount must not be negative"),
    ({"refunded_amount": "99.00"}, "refunded_amount 99.00 exceeds amount_paid 98.50"),
    ({"refunded_amount": "x"}, "refunded_amount must be money like"),
    ({"currency": "元"}, "currency must be a code like \"CNY\""),
    ({"currency": 156}, "currency must be a string"),
    ({"buyer": "13812345678"}, "buyer must be an object, got a string"),
    ({"buyer": {"phone": 13812345678}}, "buyer.phone must be a string, got a number 13812345678"),
    ({"payment": []}, "payment must be an object, got a list"),
    ({"payment": {"transaction_id": "1"}}, "payment.channel is missing"),
    ({"payment": {"channel": "alipay", "amount": "-2"}}, "payment.amount must not be negative"),
    ({"payment": {"channel": "alipay", "paid_at": "2026-11-25T20:15:40"}},
     "payment.paid_at has no UTC offset"),
    ({"card_keys": {"secret": "x"}}, "card_keys must be a list, got an object"),
    ({"card_keys": ["ABCD"]}, "card_keys[0] must be an object, got a string"),
    ({"card_keys": [{"secret": "a"}, {"serial": "1"}]}, "card_keys[1].secret is missing"),
    ({"card_keys": [{"secret": "a", "status": "used"}]},
     "card_keys[0].status 'used' is not one of: unsold, delivered, voided, reissued"),
    ({"events": [{"kind": "paid"}]}, "events[0].at is missing"),
    ({"events": [{"at": "2026-11-25T20:15:03+08:00"}]}, "events[0].kind is missing"),
    ({"events": [{"at": "2026-11-25T20:15:03", "kind": "paid"}]}, "events[0].at has no UTC offset"),
    ({"events": [{"at": "2026-11-25T20:15:03Z", "kind": "paid", "detail": 7}]},
     "events[0].detail must be a string"),
    ({"tags": "vip"}, "tags must be a list, got a string"),
    ({"tags": ["vip", 3]}, "tags[1] must be a string"),
    ({"tags": ["vip", ""]}, "tags[1] is empty"),
    ({"remark": ["a"]}, "remark must be a string, got a list"),
])
def test_bad_fields_are_refused_with_a_specific_reason(changes, expected):
    assert expected in refusal(record(**changes))
    assert expected in refusal(json.dumps(record(**changes), ensure_ascii=False))


def test_a_record_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidOrder, match="order must be an object, got a list"):
        parse_order(["KD1"])


def test_invalid_order_carries_its_code():
    with pytest.raises(InvalidOrder) as caught:
        parse_line("{}")
    assert caught.value.code == "invalid_order"
    assert caught.value.message == "order_no is missing"


# --- writing and the round trip -------------------------------------------------

def test_dump_uses_strings_for_money_and_offsets_for_times():
    data = dump_order(parse_line(line()))
    assert data["amount_paid"] == "98.50" and data["face_value"] == "100.00"
    assert data["created_at"] == "2026-11-25T12:15:03+00:00"
    assert data["payment"]["amount"] == "98.50"
    assert data["product"]["category"] == "game_card"


def test_dump_line_keeps_chinese_readable_and_is_one_line():
    text = dump_line(parse_line(line(remark="第一行\n第二行")))
    assert "腾讯Q币100元卡密" in text and "\n" not in text


def test_round_trip_of_a_record():
    order = parse_line(line())
    assert parse_line(dump_line(order)) == order
    assert parse_line(dump_line(order).encode("utf-8")) == order


utc_times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                         timezones=st.just(UTC))
money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
chars = st.characters(exclude_characters="\x00")  # NUL is refused on import
words = st.text(chars, min_size=1, max_size=20).filter(str.strip)
maybe_text = st.none() | words

buyers = st.builds(Buyer, account=maybe_text, phone=maybe_text, email=maybe_text)
products = st.builds(Product, sku=words, name=words, category=st.sampled_from(CATEGORIES),
                     face_value=st.none() | money)
payments = st.builds(PaymentProof, channel=words, transaction_id=maybe_text, payer=maybe_text,
                     amount=st.none() | money, paid_at=st.none() | utc_times,
                     proof_url=maybe_text)
card_keys = st.builds(CardKey, serial=st.text(chars, max_size=20), secret=words,
                      status=st.sampled_from(CARD_KEY_STATES),
                      delivered_at=st.none() | utc_times)
events = st.builds(OrderEvent, at=utc_times, kind=words, detail=st.text(chars, max_size=40))


@st.composite
def orders(draw: st.DrawFn) -> Order:
    paid = draw(money)
    return Order(
        order_no=draw(words), status=draw(st.sampled_from(STATUSES)), created_at=draw(utc_times),
        product=draw(products), quantity=draw(st.integers(1, MAX_QUANTITY)), amount_paid=paid,
        currency=draw(st.sampled_from(["CNY", "USD", "USDT"])),
        face_value=draw(st.none() | money), discount=draw(money),
        refunded_amount=draw(st.decimals(min_value=0, max_value=paid, places=2)),
        paid_at=draw(st.none() | utc_times), updated_at=draw(st.none() | utc_times),
        buyer=draw(buyers), recipient_account=draw(maybe_text), buyer_ip=draw(maybe_text),
        region=draw(maybe_text), operator=draw(maybe_text), supplier=draw(maybe_text),
        payment=draw(st.none() | payments),
        card_keys=tuple(draw(st.lists(card_keys, max_size=3))),
        events=tuple(draw(st.lists(events, max_size=4))), remark=draw(maybe_text),
        tags=tuple(draw(st.lists(words, max_size=3))), search_password=draw(maybe_text),
    )


@settings(max_examples=200, deadline=None)
@given(orders())
def test_parse_line_inverts_dump_line(order):
    assert parse_line(dump_line(order)) == order
    assert parse_order(json.loads(dump_line(order))) == order


# --- files -------------------------------------------------------------------

def _order_line(order_no: str) -> bytes:
    return line(order_no=order_no).encode("utf-8")


def mixed_file_lines() -> list[bytes]:
    return [
        _order_line("KD1"),                                     # 1 good
        b"",                                                    # 2 blank
        _order_line("KD2"),                                     # 3 good
        b"{not json",                                           # 4 malformed
        line(order_no="KD3", quantity="two").encode("utf-8"),   # 5 bad type
        b"   \t",                                               # 6 blank
        _order_line("KD1"),                                     # 7 duplicate of line 1
        _order_line("KD4").replace(b"QB-100", b"QB-\xb0\xa1"),  # 8 not UTF-8
        line(order_no="KD5", remark="中文备注").encode("utf-8") + b"\r",  # 9 good, CRLF
        line(order_no="KD3").encode("utf-8"),                   # 10 good: line 5 never loaded KD3
        b"[]",                                                  # 11 not an object
    ]


def test_read_jsonl_reports_line_numbers_and_keeps_every_good_order(tmp_path):
    path = tmp_path / "orders.jsonl"
    path.write_bytes(b"\n".join(mixed_file_lines()) + b"\n")
    results = list(read_jsonl(path))
    assert [number for number, _ in results] == [1, 3, 4, 5, 7, 8, 9, 10, 11]
    good = {number: item.order_no for number, item in results if isinstance(item, Order)}
    assert good == {1: "KD1", 3: "KD2", 9: "KD5", 10: "KD3"}
    errors = {number: str(item) for number, item in results if isinstance(item, InvalidOrder)}
    assert errors[4].startswith("malformed JSON")
    assert errors[5] == "quantity must be an integer, got a string 'two'"
    assert errors[7] == "duplicate order_no KD1, first seen on line 1"
    assert errors[8].startswith("line is not valid UTF-8")
    assert errors[11] == "line is not a JSON object, got a list"


def test_read_jsonl_accepts_open_binary_and_text_files(tmp_path):
    data = b"\n".join(mixed_file_lines())
    from_bytes = list(read_jsonl(io.BytesIO(data)))
    assert len(from_bytes) == 9
    text = io.StringIO("\n".join([line(order_no="A"), "", line(order_no="B"), line(order_no="A")]))
    results = list(read_jsonl(text))
    assert [(n, getattr(item, "order_no", str(item))) for n, item in results] == [
        (1, "A"), (3, "B"), (4, "duplicate order_no A, first seen on line 1")]


def test_read_jsonl_streams_lazily(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"\n".join(_order_line(f"KD{i}") for i in range(1000)) + b"\n{broken")
    stream = read_jsonl(str(path))
    assert next(stream)[1].order_no == "KD0"
    stream.close()  # closing early closes the file too


def test_write_jsonl_round_trips_through_read_jsonl(tmp_path):
    originals = [parse_line(line(order_no=f"KD{i}")) for i in range(5)]
    path = tmp_path / "out.jsonl"
    assert write_jsonl(originals, path) == 5
    assert [order for _, order in read_jsonl(path)] == originals
    assert path.read_bytes().count(b"\n") == 5
