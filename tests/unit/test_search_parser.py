"""The free-text parser: every form an agent pastes, in Chinese and English."""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import CATEGORIES, STATUSES, SearchQuery
from console.search import parser as parser_module
from console.search.parser import MAX_CHARS, ParsedQuery, merge_filters, parse_query

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 18, 10, 30, tzinfo=TZ)  # a Wednesday
TODAY = NOW.date()
STUCK = {"processing", "paid", "failed"}


def parse(text: str, now: datetime = NOW) -> ParsedQuery:
    return parse_query(text, now=now, tz=TZ)


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=TZ).astimezone(timezone.utc)


def span(first: date, days: int = 1) -> tuple[datetime, datetime]:
    return local_midnight(first), local_midnight(first + timedelta(days=days))


def date_range(p: ParsedQuery) -> tuple[datetime | None, datetime | None]:
    return p.created_from, p.created_to


# --- order-number-like keys --------------------------------------------------

@pytest.mark.parametrize("text", [
    "KD202611180001",
    "kd202611180001",
    "订单号KD202611180001没到账",
    "order KD-20261118-0001 please",
    "kd 2026 1118 0001",
    "ｋｄ２０２６１１１８０００１",
])
def test_order_numbers_are_normalised_to_one_key(text: str) -> None:
    assert parse(text).keys == ("KD202611180001",)


@pytest.mark.parametrize("text,key", [
    ("QQ号 123456789 充值没到账", "123456789"),
    ("交易号 4200001234202611181234567890", "4200001234202611181234567890"),
    ("card ABCD-EFGH-1234-5678", "ABCDEFGH12345678"),
])
def test_long_digit_and_serial_tokens_are_keys(text: str, key: str) -> None:
    assert key in parse(text).keys


def test_short_numbers_and_product_tokens_are_not_keys() -> None:
    p = parse("steam100 q币 500 2026")
    assert p.keys == ()
    assert "steam100" in p.words


# --- phones and tails --------------------------------------------------------

@pytest.mark.parametrize("text", [
    "18612345098", "186-1234-5098", "186 1234 5098", "+86 186 1234 5098", "+8618612345098",
    "手机18612345098话费没到账", "my phone is 186-1234-5098",
])
def test_phone_forms(text: str) -> None:
    p = parse(text)
    assert p.phones == ("18612345098",)
    assert p.keys == ()


def test_non_mobile_numbers_are_not_phones() -> None:
    assert parse("12612345098").phones == ()        # 12x is not a mobile prefix
    assert parse("186123450981").phones == ()       # 12 digits


@pytest.mark.parametrize("text", [
    "尾号5098", "手机尾号 5098", "尾号是5098", "后四位5098", "ending 5098", "ends with 5098",
    "phone ending in 5098", "last 4 5098", "last 4 digits are 5098", "tail 5098",
])
def test_phone_tail_forms(text: str) -> None:
    p = parse(text)
    assert p.phone_tails == ("5098",)
    assert p.amounts == () and p.keys == ()


# --- emails, fragments, IPs ---------------------------------------------------

def test_full_email_is_lower_cased() -> None:
    p = parse("邮箱 ZhangSan@QQ.com 没收到卡密")
    assert p.emails == ("zhangsan@qq.com",)
    assert p.email_fragments == ()


@pytest.mark.parametrize("text,fragment", [
    ("zhang@", "zhang@"), ("@qq.com", "@qq.com"), ("邮箱是zhangsan@qq", "zhangsan@qq"),
    ("email starts with Zhang@", "zhang@"),
])
def test_email_fragments(text: str, fragment: str) -> None:
    p = parse(text)
    assert p.email_fragments == (fragment,)
    assert p.emails == ()


def test_ipv4_is_found_and_not_an_amount() -> None:
    p = parse("ip 113.45.6.78 买的")
    assert p.ips == ("113.45.6.78",)
    assert p.amounts == ()
    assert parse("1.2.3.4.5").ips == ()
    assert parse("999.1.1.1").ips == ()


# --- amounts -----------------------------------------------------------------

@pytest.mark.parametrize("text,value", [
    ("98.5", "98.50"), ("¥100", "100.00"), ("￥100", "100.00"), ("100元", "100.00"),
    ("100块", "100.00"), ("5块钱", "5.00"), ("100 yuan", "100.00"), ("100 rmb", "100.00"),
    ("CNY 100", "100.00"), ("$10", "10.00"), ("付了９８.５元", "98.50"), ("1,000元", "1000.00"),
])
def test_amount_forms(text: str, value: str) -> None:
    p = parse(text)
    assert [a.value for a in p.amounts] == [Decimal(value)]


def test_decimal_amount_has_a_cent_of_slack() -> None:
    (a,) = parse("98.50").amounts
    assert a.exact
    assert a.low <= Decimal("98.50") <= a.high
    assert not a.low <= Decimal("98.48")
    assert not Decimal("98.52") <= a.high


def test_whole_amount_window_reaches_a_discounted_price() -> None:
    (a,) = parse("大概100元").amounts
    assert not a.exact
    assert a.low <= Decimal("98.50") <= a.high
    assert not a.low <= Decimal("95.00")       # but not the neighbouring face values
    (small,) = parse("10元").amounts
    assert small.low <= Decimal("9.50") and Decimal("10.50") <= small.high  # at least 0.50


def test_bare_integer_is_a_bare_amount_and_stays_a_word() -> None:
    # "steam wallet 50": the paid amount or the face value in the product's name
    p = parse("steam 100")
    (a,) = p.amounts
    assert a.bare and a.value == Decimal("100.00")
    assert "100" in p.words
    assert parse("100元 steam 50").amounts[0].value == Decimal("100.00")
    assert len(parse("100元 steam 50").amounts) == 1  # with a real amount, bare numbers are not


# --- dates -------------------------------------------------------------------

@pytest.mark.parametrize("text,first,days", [
    ("今天", TODAY, 1), ("today", TODAY, 1),
    ("昨天", TODAY - timedelta(days=1), 1), ("yesterday", TODAY - timedelta(days=1), 1),
    ("前天", TODAY - timedelta(days=2), 1), ("day before yesterday", TODAY - timedelta(days=2), 1),
    ("11月3日", date(2026, 11, 3), 1), ("11月3号", date(2026, 11, 3), 1),
    ("2026-11-03", date(2026, 11, 3), 1), ("2026/11/03", date(2026, 11, 3), 1),
    ("2026年11月3日", date(2026, 11, 3), 1),
    ("Nov 3", date(2026, 11, 3), 1), ("3 Nov", date(2026, 11, 3), 1),
    ("November 3", date(2026, 11, 3), 1), ("Nov 3rd, 2025", date(2025, 11, 3), 1),
])
def test_single_day_forms(text: str, first: date, days: int) -> None:
    assert date_range(parse(text)) == span(first, days)


@pytest.mark.parametrize("text", ["3天前", "三天前", "3 days ago", "three days ago"])
def test_days_ago_covers_that_day_and_one_either_side(text: str) -> None:
    frm, to = date_range(parse(text))
    target = local_midnight(TODAY - timedelta(days=3))
    assert frm == target - timedelta(days=1)
    assert to == target + timedelta(days=2)


@pytest.mark.parametrize("text", ["上周", "last week", "上个星期"])
def test_last_week_is_monday_to_monday(text: str) -> None:
    frm, to = date_range(parse(text))
    monday = TODAY - timedelta(days=TODAY.weekday())
    assert (frm, to) == span(monday - timedelta(days=7), 7)
    assert frm.astimezone(TZ).weekday() == 0


@pytest.mark.parametrize("text", ["本周", "this week", "这周"])
def test_this_week(text: str) -> None:
    frm, to = date_range(parse(text))
    assert frm <= NOW < to
    assert frm.astimezone(TZ).weekday() == 0 and to - frm == timedelta(days=7)


@pytest.mark.parametrize("text", ["上个月", "last month", "上月"])
def test_last_month(text: str) -> None:
    assert date_range(parse(text)) == span(date(2026, 10, 1), 31)


@pytest.mark.parametrize("text", ["本月", "this month"])
def test_this_month(text: str) -> None:
    assert date_range(parse(text)) == span(date(2026, 11, 1), 30)


def test_last_month_across_new_year() -> None:
    p = parse("上个月", now=datetime(2027, 1, 5, 9, tzinfo=TZ))
    assert date_range(p) == span(date(2026, 12, 1), 31)


def test_day_of_month_alone_is_the_most_recent_such_day() -> None:
    assert date_range(parse("3号买的")) == span(date(2026, 11, 3))
    assert date_range(parse("30号")) == span(date(2026, 10, 30))   # Nov 30 is still ahead
    assert date_range(parse("31日")) == span(date(2026, 10, 31))
    assert date_range(parse("QQ号123456")) == (None, None)


def test_month_day_without_year_is_never_in_the_future() -> None:
    assert date_range(parse("12月25日")) == span(date(2025, 12, 25))
    assert date_range(parse("Dec 25")) == span(date(2025, 12, 25))
    assert date_range(parse("11月18日")) == span(TODAY)  # today is not the future


def test_dates_are_read_in_console_timezone_and_returned_in_utc() -> None:
    just_after_midnight = datetime(2026, 11, 18, 0, 30, tzinfo=TZ)  # still Nov 17 in UTC
    frm, to = date_range(parse("今天", now=just_after_midnight))
    assert frm == datetime(2026, 11, 17, 16, 0, tzinfo=timezone.utc)
    assert frm.utcoffset() == timedelta(0)
    assert to - frm == timedelta(days=1)
    # a `now` given in UTC means the same instant
    assert date_range(parse("今天", now=just_after_midnight.astimezone(timezone.utc))) == (frm, to)


def test_impossible_date_is_dropped_without_becoming_an_amount() -> None:
    p = parse("2月30日")
    assert date_range(p) == (None, None)
    assert p.amounts == () and p.keys == ()


def test_two_dates_make_one_covering_range() -> None:
    p = parse("11月1日 到 11月3日")
    assert date_range(p) == span(date(2026, 11, 1), 3)
    assert p.date_label == "11月1日 11月3日"


# --- status words ------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("未到账", STUCK), ("没到账", STUCK), ("卡密没收到", STUCK), ("not received", STUCK),
    ("it didn't arrive", STUCK), ("never arrived", STUCK),
    ("失败", {"failed"}), ("payment failed", {"failed"}),
    ("退款", {"refunded", "partially_refunded"}), ("已退款", {"refunded", "partially_refunded"}),
    ("refunded", {"refunded", "partially_refunded"}),
    ("refund", {"refunded", "partially_refunded"}),
    ("处理中", {"processing"}), ("processing", {"processing"}),
    ("已完成", {"completed", "delivered"}), ("completed", {"completed", "delivered"}),
    ("delivered", {"completed", "delivered"}), ("已发货", {"completed", "delivered"}),
    ("待支付", {"pending_payment"}), ("未支付", {"pending_payment"}), ("unpaid", {"pending_payment"}),
    ("取消", {"cancelled"}), ("cancelled", {"cancelled"}),
    ("过期", {"expired"}), ("expired", {"expired"}),
    ("售后", {"after_sales"}), ("after sales", {"after_sales"}),
])
def test_status_words(text: str, expected: set[str]) -> None:
    p = parse(text)
    assert p.statuses == expected
    assert p.statuses <= set(STATUSES)
    assert p.words == ()


def test_asking_for_a_refund_is_not_a_refunded_status() -> None:
    assert parse("我要退款").statuses == frozenset()
    assert parse("I want a refund please").statuses == frozenset()


# --- category words ----------------------------------------------------------

@pytest.mark.parametrize("text,category", [
    ("话费", "phone_topup"), ("phone credit", "phone_topup"), ("top up my phone", "phone_topup"),
    ("流量", "data_topup"), ("mobile data", "data_topup"),
    ("Q币", "virtual_currency"), ("q币", "virtual_currency"), ("QB", "virtual_currency"),
    ("点卡", "game_card"), ("game card", "game_card"),
    ("王者荣耀充值", "game_topup"), ("top-up", "game_topup"),
    ("会员", "video_membership"), ("VIP", "video_membership"), ("membership", "video_membership"),
    ("爱奇艺", "video_membership"), ("腾讯视频", "video_membership"),
    ("礼品卡", "gift_card"), ("gift card", "gift_card"), ("steam", "gift_card"),
    ("Apple", "gift_card"),
    ("激活码", "software_key"), ("license", "software_key"), ("windows key", "software_key"),
])
def test_category_words(text: str, category: str) -> None:
    p = parse(text)
    assert p.categories == {category}
    assert p.categories <= set(CATEGORIES)


def test_brand_words_stay_as_text_for_product_matching() -> None:
    for text, word in [("steam 没到账", "steam"), ("腾讯Q币", "腾讯Q币"), ("爱奇艺会员", "爱奇艺")]:
        assert word in parse(text).words


def test_generic_category_words_are_consumed() -> None:
    assert parse("话费 会员 礼品卡").words == ()


def test_recharge_without_a_game_word_has_no_category() -> None:
    assert parse("充值没到账").categories == frozenset()


# --- leftover words ------------------------------------------------------------

def test_leftover_keeps_cjk_runs_whole_and_drops_fillers() -> None:
    p = parse("你好，我买的腾讯视频年卡怎么还没到账？")
    assert p.words == ("腾讯视频年卡",)


def test_leftover_english_drops_stop_words() -> None:
    p = parse("Hi, I bought the Steam wallet card and it never arrived")
    assert [w.lower() for w in p.words] == ["steam", "wallet"]


def test_full_sentence_mixes_every_kind() -> None:
    p = parse("昨天买的steam 100元 卡密没到账，手机尾号5098，邮箱zhang@")
    assert p.phone_tails == ("5098",)
    assert [a.value for a in p.amounts] == [Decimal("100.00")]
    assert date_range(p) == span(TODAY - timedelta(days=1))
    assert p.statuses == STUCK
    assert p.categories == {"gift_card"}
    assert p.email_fragments == ("zhang@",)
    assert "steam" in p.words


# --- robustness ----------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "   ", "？！。，…", "!!!", "😀🔥💳", "\x00\x01\n\t", "\ud800\udfff",
                                  '"foo" NEAR bar* 50% _x_ \'a\' (b)'])
def test_odd_input_gives_a_valid_empty_or_clean_parse(text: str) -> None:
    p = parse(text)
    assert p.keys == () and p.amounts == ()
    for word in p.words:
        assert not set(word) & set("\"*%_'()")


def test_fts_syntax_words_survive_as_plain_text() -> None:
    assert parse('"steam" NEAR card*').words == ("steam", "NEAR")


def test_full_width_input_is_normalised() -> None:
    p = parse("１３８１２３４５６７８ ＡＢ１２３４５６７８ ９８.５元")
    assert p.phones == ("13812345678",)
    assert p.keys == ("AB12345678",)
    assert [a.value for a in p.amounts] == [Decimal("98.50")]


def test_huge_input_is_truncated_and_flagged() -> None:
    p = parse("KD202611180001 " + "很长的文字" * 2000)
    assert p.truncated
    assert len(p.text) <= MAX_CHARS
    assert p.keys == ("KD202611180001",)
    assert not parse("short").truncated


def test_non_string_input_does_not_raise() -> None:
    assert parse_query(None, now=NOW, tz=TZ).is_empty  # type: ignore[arg-type]


# --- outputs -----------------------------------------------------------------

def test_to_dict_is_json_friendly() -> None:
    p = parse("昨天 98.5元 尾号5098 退款 steam")
    d = p.to_dict()
    json.dumps(d)
    assert d["amounts"][0]["value"] == "98.50"
    assert datetime.fromisoformat(d["created_from"]) == p.created_from
    assert d["statuses"] == sorted(p.statuses)


def test_chips_follow_text_order_and_show_what_was_typed() -> None:
    chips = parse("尾号5098 昨天 98.5元 steam").chips()
    assert [c["kind"] for c in chips] == ["phone_tail", "date", "amount", "category", "word"]
    assert chips[0] == {"kind": "phone_tail", "label": "尾号5098", "value": "5098"}
    assert all(set(c) == {"kind", "label", "value"} for c in chips)


def test_to_search_query_maps_fragments() -> None:
    p = parse("KD2026111800 18612345098 ZhangSan@QQ.com 1.2.3.4 尾号5098 zhang@ "
              "98.5元 100元 昨天 退款 steam 100")
    q = p.to_search_query(limit=50, skus=["ST100", ""])
    assert isinstance(q, SearchQuery)
    assert set(q.keys) == {"KD2026111800", "18612345098", "zhangsan@qq.com", "1.2.3.4"}
    assert q.phone_tails == ("5098",)
    assert "zhang@" in q.substrings and "steam" in q.substrings
    assert "KD2026111800" in q.substrings        # partial order numbers
    assert "100" not in q.substrings             # too common to be a substring
    assert q.amount_min is not None and q.amount_max is not None
    assert q.amount_min <= Decimal("98.50") and Decimal("100.00") <= q.amount_max
    assert (q.created_from, q.created_to) == (p.created_from, p.created_to)
    assert q.statuses == {"refunded", "partially_refunded"}
    assert q.skus == {"ST100"}
    assert q.limit == 50


def test_merge_filters_replace_parsed_dimensions() -> None:
    p = parse("昨天 退款 steam")
    merged = merge_filters(p, status="failed,processing", category=["game_card"],
                           date_from="2026-11-01", date_to=date(2026, 11, 3), tz=TZ)
    assert merged.statuses == {"failed", "processing"}
    assert merged.categories == {"game_card"}
    assert (merged.created_from, merged.created_to) == span(date(2026, 11, 1), 3)
    assert {c["kind"] for c in merged.chips()} == {"word"}   # overridden chips dropped
    assert merged.words == p.words
    assert merge_filters(p) is p
    only_from = merge_filters(p, date_from=date(2026, 11, 1), tz=TZ)
    assert only_from.created_to is None


def test_merge_filters_rejects_unknown_values() -> None:
    with pytest.raises(ValueError):
        merge_filters(parse(""), status="lost")
    with pytest.raises(ValueError):
        merge_filters(parse(""), category="cars")
    with pytest.raises(ValueError):
        merge_filters(parse(""), date_from="yesterday")


# --- properties ----------------------------------------------------------------

texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=120),
    st.lists(st.sampled_from([
        "KD2026", "1118", "0001", "尾号", "5098", "¥", "元", "98.5", "100", "昨天", "Nov", "3",
        "@", "qq.com", "zhang", "-", " ", "１３８", "ＡＢ", "😀", "\u200d", "\x00", "月", "日",
        "天前", "last", "week", "refund", "没到账", "steam", '"', "*", "NEAR", "%", "_", "'", "(",
        "+86", "186", "1234", "5678", ".", "ending", "话费", "充值",
    ]), max_size=40).map("".join),
)


@settings(max_examples=200, deadline=None)
@given(texts)
def test_parse_never_raises_and_yields_a_valid_search_query(text: str) -> None:
    # the rule path itself, not only the catch-all fallback of parse_query
    p = parser_module._parse(text, now=NOW, tz=TZ)
    json.dumps(p.to_dict())
    json.dumps(p.chips())
    q = p.to_search_query()
    assert all(k for k in q.keys)
    assert all(len(s) >= 3 for s in q.substrings)
    assert all(len(t) == 4 and t.isdigit() for t in q.phone_tails)
    if q.amount_min is not None or q.amount_max is not None:
        assert q.amount_min is not None and q.amount_max is not None
        assert q.amount_min <= q.amount_max
    if q.created_from and q.created_to:
        assert q.created_from < q.created_to
    assert q.statuses <= set(STATUSES) and q.categories <= set(CATEGORIES)
    assert len(p.text) <= MAX_CHARS


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=MAX_CHARS * 3), st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
    timezones=st.just(timezone.utc)))
def test_parse_never_raises_at_any_time(text: str, now: datetime) -> None:
    p = parser_module._parse(text, now=now, tz=TZ)
    assert p.truncated or len(text) <= MAX_CHARS
    if p.created_from is not None:
        assert p.created_from.utcoffset() == timedelta(0)


# --- issue 13: Chinese numerals, times of day, ranges, weeks and months, card-key pieces ---

@pytest.mark.parametrize("text,value", [
    ("一百元", "100.00"), ("五十块", "50.00"), ("两百块钱", "200.00"), ("九十八点五元", "98.50"),
    ("三十块五", "30.50"), ("一千二百元", "1200.00"), ("充了二十元话费", "20.00"),
])
def test_chinese_numeral_amounts(text: str, value: str) -> None:
    assert [a.value for a in parse(text).amounts] == [Decimal(value)]


def test_a_little_is_not_one_oclock_and_a_card_is_not_an_amount() -> None:
    assert parse("快一点").time_window is None
    assert parse("一卡通").amounts == ()


@pytest.mark.parametrize("text,first", [
    ("十一月三号", date(2026, 11, 3)), ("十一月三日", date(2026, 11, 3)),
    ("11月三号", date(2026, 11, 3)), ("十二月二十五日", date(2025, 12, 25)),
    ("三号买的", date(2026, 11, 3)), ("上个月十五号", date(2026, 10, 15)),
])
def test_chinese_numeral_dates(text: str, first: date) -> None:
    assert date_range(parse(text)) == span(first)


@pytest.mark.parametrize("text", ["两天前", "2 days ago", "two days ago"])
def test_days_ago_in_numerals_and_words(text: str) -> None:
    assert date_range(parse(text)) == span(TODAY - timedelta(days=3), 3)


@pytest.mark.parametrize("text,minute,slack", [
    ("昨晚8点左右", 20 * 60, 90), ("下午三点", 15 * 60, 60), ("晚上十点半", 22 * 60 + 30, 45),
    ("around 3pm", 15 * 60, 90), ("at 9am", 9 * 60, 60), ("早上8点多", 8 * 60 + 30, 45),
    ("20:15", 20 * 60 + 15, 45), ("凌晨2点", 2 * 60, 60), ("中午12点", 12 * 60, 60),
])
def test_times_of_day_are_a_window(text: str, minute: int, slack: int) -> None:
    window = parse(text).time_window
    assert window is not None
    assert (window.minute, window.slack) == (minute, slack)


def test_a_time_ranks_by_closeness_and_keeps_the_day() -> None:
    p = parse("昨晚8点左右 50元")
    assert date_range(p) == span(TODAY - timedelta(days=1))          # 昨晚 is still yesterday
    assert [a.value for a in p.amounts] == [Decimal("50.00")]        # 8 is not an amount
    window = p.time_window
    at = lambda h, m=0: datetime.combine(TODAY, time(h, m), tzinfo=TZ)  # noqa: E731
    assert window.closeness(at(20)) == window.closeness(at(21, 15)) == 1.0
    assert 0 < window.closeness(at(22, 15)) < 1.0
    assert window.closeness(at(9)) == 0.0
    assert window.closeness(at(20).astimezone(timezone.utc)) == 1.0  # any zone in


def test_period_words_alone_give_a_broad_window() -> None:
    window = parse("昨晚买的").time_window
    assert window is not None and window.minute >= 18 * 60
    assert date_range(parse("昨晚买的")) == span(TODAY - timedelta(days=1))
    assert parse("this morning").time_window.minute < 12 * 60
    assert date_range(parse("this morning")) == span(TODAY)


@pytest.mark.parametrize("text,low,high", [
    ("100-200元", "98.00", "202.00"), ("100到200块", "98.00", "202.00"),
    ("between 100 and 200", "98.00", "202.00"), ("100 ~ 200 yuan", "98.00", "202.00"),
    ("about 50", "48.00", "52.00"), ("around ¥50", "48.00", "52.00"), ("50左右", "48.00", "52.00"),
    ("大概50块钱买的", "48.00", "52.00"), ("五十多块", "50.00", "59.99"),
    ("一百多元", "100.00", "199.99"), ("120多块", "120.00", "129.99"),
])
def test_amount_ranges_and_approximations(text: str, low: str, high: str) -> None:
    (a,) = parse(text).amounts
    assert (a.low, a.high) == (Decimal(low), Decimal(high))


def test_a_range_is_not_an_order_number_or_a_date() -> None:
    assert parse("KD-20261118-0001").amounts == ()
    assert parse("2026-11-03").amounts == ()
    assert parse("KD-20261118-0001").keys == ("KD202611180001",)


@pytest.mark.parametrize("text,first,days", [
    ("上上周", date(2026, 11, 2), 7), ("the week before last", date(2026, 11, 2), 7),
    ("上上个月", date(2026, 9, 1), 30), ("the month before last", date(2026, 9, 1), 30),
    ("上周三", date(2026, 11, 11), 1), ("last wednesday", date(2026, 11, 11), 1),
    ("周一", date(2026, 11, 16), 1), ("on Monday", date(2026, 11, 16), 1),
    ("两周前", date(2026, 11, 1), 7), ("2 weeks ago", date(2026, 11, 1), 7),
    ("最近两周", date(2026, 11, 5), 14), ("past 2 weeks", date(2026, 11, 5), 14),
    ("最近一个月", date(2026, 10, 20), 30), ("past month", date(2026, 10, 20), 30),
])
def test_relative_weeks_and_months(text: str, first: date, days: int) -> None:
    assert date_range(parse(text)) == span(first, days)


def test_months_ago_is_a_rough_window_around_that_day() -> None:
    frm, to = date_range(parse("两个月前"))
    target = local_midnight(TODAY - timedelta(days=60))
    assert frm < target < to and (to - frm) >= timedelta(days=14)
    assert date_range(parse("2 months ago")) == (frm, to)


def test_last_week_and_last_month_stay_calendar_spans() -> None:
    assert date_range(parse("last week")) == span(date(2026, 11, 9), 7)
    assert date_range(parse("上个月")) == span(date(2026, 10, 1), 31)


@pytest.mark.parametrize("text,code", [
    ("卡密里有 Z9-S63CH-J 显示已被使用", "Z9S63CHJ"),
    ("key 3 JPEU YAR5 Z already redeemed", "3JPEUYAR5Z"),
    ("卡密好像是lhnat63zl6", "LHNAT63ZL6"),
    ("卡密 HJUEBDCVA5 兑换不了", "HJUEBDCVA5"),
])
def test_card_key_pieces_are_codes(text: str, code: str) -> None:
    p = parse(text)
    assert code in p.codes
    assert code in p.to_search_query().codes


def test_keys_are_looked_up_as_code_pieces_too_and_words_stay() -> None:
    p = parse("NAB4-NQ3L")
    assert p.keys == ("NAB4NQ3L",) and "NAB4NQ3L" in p.to_search_query().codes
    words = parse("STEAM WALLET 50")
    assert {"STEAM", "WALLET"} <= set(words.words)     # shouting is still product text
    assert parse("卡密 AB12").to_search_query().codes == ()   # too short to look up


def test_whole_emails_go_to_the_store_for_slips() -> None:
    q = parse("邮箱 ZhangSan@QQ.con").to_search_query()
    assert q.emails == ("zhangsan@qq.con",)
    assert "zhangsan@qq.con" in q.keys


def test_the_issue_examples() -> None:
    p = parse("2026-11-03 steem wallet 50")
    assert date_range(p) == span(date(2026, 11, 3))
    assert [(a.value, a.bare) for a in p.amounts] == [(Decimal("50.00"), True)]
    assert {"steem", "wallet", "50"} <= set(p.words)
    q = parse("上个月 会员 尾号6688")
    assert date_range(q) == span(date(2026, 10, 1), 31)
    assert q.categories == {"video_membership"} and q.phone_tails == ("6688",)
    d = parse("zhangsan@qq.con")
    assert d.emails == ("zhangsan@qq.con",)
    assert [f.kind for f in parse("2026-11-03 steem wallet 50").fragments].count("amount") == 1


def test_new_fields_are_json_friendly() -> None:
    p = parse("昨晚8点左右 about 50 卡密 Z9-S63CH-J")
    data = json.loads(json.dumps(p.to_dict()))
    assert data["time"]["at"] == "20:00" and data["time"]["from"] == "18:30"
    assert data["codes"] == ["Z9S63CHJ"]
    assert data["amounts"][0]["bare"] is False
