"""Ranking candidate orders against what the customer said."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import Buyer, Candidate, OrderSummary, Product
from console.search.catalogue import Catalogue
from console.search.parser import parse_query
from console.search.ranker import Ranked, rank

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=TZ)


def order(no: str, *, days_ago: float = 0, amount: str = "100.00", phone: str | None = None,
          email: str | None = None, sku: str = "STEAM-100", name: str = "Steam 钱包充值卡 100元",
          category: str = "gift_card", status: str = "processing", ip: str | None = None,
          tx: str | None = None, recipient: str | None = None,
          hits: frozenset[str] = frozenset()) -> Candidate:
    return Candidate(OrderSummary(
        order_no=no, status=status,
        created_at=(NOW - timedelta(days=days_ago)).astimezone(timezone.utc),
        product_name=name, category=category, amount_paid=Decimal(amount), sku=sku,
        buyer=Buyer(phone=phone, email=email), buyer_ip=ip, transaction_id=tx,
        recipient_account=recipient), hits)


def ranked(text: str, candidates: list[Candidate],
           catalogue: dict[str, float] | None = None) -> list[Ranked]:
    parsed = parse_query(text, now=NOW, tz=TZ)
    return rank(parsed, candidates, catalogue or {}, NOW)


def order_nos(result: list[Ranked]) -> list[str]:
    return [r.summary.order_no for r in result]


def test_exact_order_number_comes_first_with_full_score() -> None:
    cands = [order("KD202611180002", days_ago=0, phone="13800005098"),
             order("KD202611170001", days_ago=1),
             order("KD202611160003", days_ago=2, phone="13800005098")]
    result = ranked("kd-2026 1117 0001 尾号5098", cands)
    assert order_nos(result)[0] == "KD202611170001"
    assert result[0].score == 100.0
    assert "order_no" in result[0].matched
    assert all(r.score < 100.0 for r in result[1:])


def test_one_character_typo_in_order_number_still_wins() -> None:
    target = order("KD202611170001", days_ago=3, amount="50.00")
    others = [order(f"KD2026111800{i:02d}", days_ago=0, phone="13800005098") for i in range(10, 20)]
    for typo in ("KD202611170007", "KD20261117001", "KD202611710001", "KD2026111700001"):
        result = ranked(typo, [*others, target])
        assert order_nos(result)[0] == "KD202611170001", typo
        assert "order_no~" in result[0].matched
        assert result[0].score > result[1].score


def test_typo_order_number_beats_a_pile_of_weak_matches() -> None:
    target = order("KD202611170001", days_ago=5, amount="30.00", phone="13900001111")
    decoy = order("KD202611180099", days_ago=1, amount="98.50", phone="13800005098",
                  status="processing")
    result = ranked("KD202611170002 尾号5098 98.5元 昨天 没到账 steam",
                    [decoy, target], {"STEAM-100": 100.0})
    assert order_nos(result) == ["KD202611170001", "KD202611180099"]


def test_swapped_characters_in_email_rank_the_owner_first() -> None:
    owner = order("KD1", days_ago=5, email="zhangsan@qq.com")
    others = [order(f"KD{i}", days_ago=0, email=f"user{i}@qq.com") for i in range(2, 8)]
    result = ranked("zhagnsan@qq.com 没到账", [*others, owner])
    assert order_nos(result)[0] == "KD1"
    assert "email~" in result[0].matched
    assert "email~" not in result[1].matched


def test_exact_email_beats_typo_email() -> None:
    result = ranked("zhangsan@qq.com", [order("A", email="zhangsan@qq.co"),
                                        order("B", days_ago=9, email="ZhangSan@QQ.com")])
    assert order_nos(result) == ["B", "A"]
    assert result[0].matched[0] == "email"


def test_tail_amount_and_date_beat_tail_alone() -> None:
    right = order("RIGHT", days_ago=1, amount="98.50", phone="13800005098")
    tail_only = [order(f"TAIL{i}", days_ago=0.1 * i, amount="10.00", phone=f"13{i}00005098")
                 for i in range(3, 9)]
    result = ranked("尾号5098 大概100块 昨天", [*tail_only, right])
    assert order_nos(result)[0] == "RIGHT"
    assert {"phone_tail", "amount", "date"} <= set(result[0].matched)
    assert result[0].score > result[1].score + 10


def test_a_tail_shared_by_many_orders_is_weak_evidence() -> None:
    alone = ranked("尾号5098", [order("A", phone="13800005098")])[0].score
    crowd = ranked("尾号5098", [order(f"C{i}", phone="13800005098") for i in range(50)])[0].score
    assert crowd < alone


def test_ties_go_newest_first() -> None:
    cands = [order("OLD", days_ago=9, phone="13800005098"),
             order("NEW", days_ago=1, phone="13900005098"),
             order("MID", days_ago=4, phone="13700005098")]
    assert order_nos(ranked("尾号5098", cands)) == ["NEW", "MID", "OLD"]
    assert order_nos(ranked("", cands)) == ["NEW", "MID", "OLD"]
    assert all(r.score == 0 for r in ranked("", cands))


def test_catalogue_typo_stema_ranks_steam_orders_first() -> None:
    products = [Product("STEAM-100", "Steam 钱包充值卡 100元", "gift_card", Decimal("100")),
                Product("QB-100", "腾讯Q币 100个", "virtual_currency")]
    parsed = parse_query("stema 100 没到账", now=NOW, tz=TZ)
    scores = Catalogue(products).scores(list(parsed.words))
    cands = [order("QB", sku="QB-100", name="腾讯Q币 100个", category="virtual_currency"),
             order("STEAM", days_ago=2)]
    result = rank(parsed, cands, scores, NOW)
    assert order_nos(result)[0] == "STEAM"
    assert "product" in result[0].matched


def test_catalogue_typo_aiqiyi_ranks_iqiyi_orders_first() -> None:
    products = [Product("IQIYI-M", "爱奇艺黄金会员 月卡", "video_membership"),
                Product("TXV-M", "腾讯视频VIP会员 月卡", "video_membership")]
    parsed = parse_query("爱奇异会员 没到账", now=NOW, tz=TZ)
    scores = Catalogue(products).scores(list(parsed.words))
    cands = [order("TXV", sku="TXV-M", name="腾讯视频VIP会员 月卡", category="video_membership"),
             order("IQY", days_ago=3, sku="IQIYI-M", name="爱奇艺黄金会员 月卡",
                   category="video_membership")]
    result = rank(parsed, cands, scores, NOW)
    assert order_nos(result)[0] == "IQY"
    assert "product" in result[0].matched and "product" not in result[1].matched


def test_each_identifier_kind_is_named() -> None:
    cands = [order("A", phone="+86 186-1234-5098"), order("B", ip="1.2.3.4"),
             order("C", tx="4200001234202611181234567890"), order("D", recipient="18612345098"),
             order("E")]
    result = {r.summary.order_no: r for r in ranked(
        "18612345098 1.2.3.4 4200001234202611181234567890", cands)}
    assert "phone" in result["A"].matched
    assert "ip" in result["B"].matched
    assert "transaction_id" in result["C"].matched
    assert "recipient" in result["D"].matched
    assert result["E"].matched == ()
    assert result["C"].score > result["A"].score > result["B"].score > result["E"].score


def test_amount_status_category_and_text_are_verified_not_trusted() -> None:
    hits = frozenset({"amount", "date", "substring"})
    right = order("R", amount="98.50", status="failed", category="gift_card", hits=hits)
    wrong = order("W", days_ago=30, amount="200.00", status="completed", category="game_card",
                  name="奇迹MU 点卡", hits=frozenset({"amount"}))
    result = {r.summary.order_no: r for r in ranked("98.5 失败 礼品卡 钱包 昨天", [right, wrong])}
    assert {"amount", "status", "category", "text"} <= set(result["R"].matched)
    assert result["W"].matched == ()


def test_store_key_hit_counts_when_the_summary_cannot_show_it() -> None:
    serial = order("S", hits=frozenset({"key"}))   # e.g. matched a card serial
    other = order("O", days_ago=0)
    result = ranked("CARD12345678", [other, serial])
    assert order_nos(result)[0] == "S"
    assert "key" in result[0].matched


def test_duplicate_candidates_are_merged_and_naive_datetimes_tolerated() -> None:
    naive = Candidate(OrderSummary(order_no="N", status="paid", created_at=datetime(2026, 11, 17),
                                   product_name="x", category="other", amount_paid=Decimal("1")))
    result = ranked("尾号5098", [order("D", phone="13800005098"), order("D"), naive])
    assert order_nos(result).count("D") == 1
    assert len(result) == 2


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=80),
       amounts=st.lists(st.decimals(min_value=0, max_value=5000, places=2), min_size=1, max_size=8))
def test_scores_stay_in_range_and_sorted(text: str, amounts: list[Decimal]) -> None:
    cands = [order(f"KD2026111800{i:02d}", days_ago=i, amount=str(a), phone=f"1380000{i:04d}",
                   email=f"u{i}@qq.com") for i, a in enumerate(amounts)]
    result = ranked(text, cands, {"STEAM-100": 80.0})
    assert len(result) == len(cands)
    assert all(0 <= r.score <= 100 for r in result)
    assert [r.score for r in result] == sorted((r.score for r in result), reverse=True)


# --- issue 13: weak fragments together, times, bare amounts, card-key pieces ----------

def test_the_order_matching_most_weak_fragments_wins_and_says_which() -> None:
    day = NOW - timedelta(days=5)
    text = f"{day.date().isoformat()} stema wallet 50"
    cands = [order("A-ALL", days_ago=5, amount="340.00", name="Steam Wallet Gift Card $50",
                   sku="STEAM-50"),
             order("B-DAY", days_ago=5, amount="70.00", name="Steam Wallet Gift Card $10",
                   sku="STEAM-10"),
             order("C-AMOUNT", days_ago=9, amount="50.00", name="Steam Wallet Gift Card $50",
                   sku="STEAM-50")]
    result = ranked(text, cands, {"STEAM-50": 90.0, "STEAM-10": 85.0})
    assert order_nos(result)[0] == "A-ALL"
    first = result[0]
    assert {"date", "product", "amount"} <= set(first.matched)   # 50 read as the face value
    assert day.date().isoformat() in first.fragments and "50" in first.fragments
    assert first.to_dict()["matched_fragments"] == list(first.fragments)


def test_a_time_of_day_ranks_the_closest_order_first() -> None:
    yesterday = (NOW - timedelta(days=1)).date()
    at = lambda h: datetime.combine(yesterday, datetime.min.time(), TZ) + timedelta(hours=h)  # noqa: E731
    cands = [Candidate(OrderSummary(order_no=no, status="paid", created_at=when.astimezone(timezone.utc),
                                    product_name="x", category="other",
                                    amount_paid=Decimal("50.00")))
             for no, when in (("MORNING", at(9)), ("EIGHT", at(20.2)), ("LATE", at(23.5)))]
    result = ranked("昨晚8点左右 50元", cands)
    assert order_nos(result) == ["EIGHT", "LATE", "MORNING"]
    assert "time" in result[0].matched and "time" not in result[2].matched


def test_a_card_key_piece_found_by_the_store_is_strong_evidence() -> None:
    cands = [order("KEYED", days_ago=30, hits=frozenset({"code"})),
             order("SLIPPED", days_ago=30, hits=frozenset({"code~"})),
             order("RECENT", days_ago=0)]
    result = ranked("卡密 Z9-S63CH-J", cands)
    assert order_nos(result)[:2] == ["KEYED", "SLIPPED"]
    assert "Z9-S63CH-J" in result[0].fragments


def test_a_recipient_account_with_one_slip_still_counts() -> None:
    cands = [order("QQ", recipient="5118888512", days_ago=40), order("OTHER", days_ago=0)]
    result = ranked("给QQ 5118888572 充的点券没到账", cands)
    assert order_nos(result)[0] == "QQ" and "recipient~" in result[0].matched
