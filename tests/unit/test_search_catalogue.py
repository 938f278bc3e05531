"""Fuzzy product lookup from a customer's words."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import Product
from console.search.catalogue import Catalogue, normalise_name
from console.search.parser import parse_query

PRODUCTS = [
    Product("STEAM-100", "Steam 钱包充值卡 100元", "gift_card", Decimal("100")),
    Product("STEAM-50", "Steam 钱包充值卡 50元", "gift_card", Decimal("50")),
    Product("QB-100", "腾讯Q币 100个", "virtual_currency", Decimal("100")),
    Product("QB-10", "腾讯Q币 10个", "virtual_currency", Decimal("10")),
    Product("IQIYI-M", "爱奇艺黄金会员 月卡", "video_membership"),
    Product("TXV-M", "腾讯视频VIP会员 月卡", "video_membership"),
    Product("YOUKU-Y", "优酷会员 年卡", "video_membership"),
    Product("XBOX-100", "Xbox 礼品卡 100", "gift_card", Decimal("100")),
    Product("MU-CARD", "奇迹MU 点卡", "game_card"),
    Product("APPLE-100", "Apple 礼品卡 100元", "gift_card", Decimal("100")),
    Product("WIN11", "Windows 11 专业版 激活码", "software_key"),
]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue(PRODUCTS)


def skus(results: list[tuple[Product, float]]) -> list[str]:
    return [p.sku for p, _ in results]


def test_names_are_normalised_once() -> None:
    assert normalise_name("Ｓｔｅａｍ 钱包, 100元!") == "steam钱包100元"


@pytest.mark.parametrize("words", [["stema", "100"], ["steam", "100"], ["STEAM100"]])
def test_steam_typo_and_number_find_the_100_card_first(catalogue: Catalogue,
                                                       words: list[str]) -> None:
    found = catalogue.match(words)
    assert skus(found)[:2] == ["STEAM-100", "STEAM-50"]
    assert found[0][1] > found[1][1]


def test_stema_alone_finds_only_steam_products(catalogue: Catalogue) -> None:
    assert set(skus(catalogue.match(["stema"]))) == {"STEAM-100", "STEAM-50"}


@pytest.mark.parametrize("words,first", [
    (["腾讯Q币"], {"QB-100", "QB-10"}),
    (["q币100"], {"QB-100"}),
    (["QB", "10"], {"QB-10"}),
    (["爱奇异"], {"IQIYI-M"}),        # 异 for 艺: a one-character typo
    (["爱奇异会员"], {"IQIYI-M"}),    # typo plus a word the name splits differently
    (["iqiyi"], {"IQIYI-M"}),
    (["腾讯", "视频"], {"TXV-M"}),
    (["win11"], {"WIN11"}),
])
def test_product_words_find_the_right_product(catalogue: Catalogue, words: list[str],
                                              first: set[str]) -> None:
    found = catalogue.match(words)
    top = found[0][1]
    assert {p.sku for p, score in found if score == top} == first


def test_parser_words_feed_the_catalogue(catalogue: Catalogue) -> None:
    tz = ZoneInfo("Asia/Shanghai")
    parsed = parse_query("我买的爱奇异会员没到账", now=datetime(2026, 11, 18, tzinfo=tz), tz=tz)
    assert skus(catalogue.match(list(parsed.words)))[:1] == ["IQIYI-M"]


@pytest.mark.parametrize("words", [["100"], ["2026", "50"], [], ["hello"], ["x"], ["😀"]])
def test_numbers_and_unrelated_words_match_nothing(catalogue: Catalogue, words: list[str]) -> None:
    assert catalogue.match(words) == []


def test_limit_cutoff_and_scores(catalogue: Catalogue) -> None:
    assert len(catalogue.match(["礼品卡"], limit=2)) == 2
    assert catalogue.match(["stema"], cutoff=99.0) == []
    scores = catalogue.scores(["steam", "100"])
    assert set(scores) == {"STEAM-100", "STEAM-50"}
    assert scores["STEAM-100"] > scores["STEAM-50"]
    assert all(0 <= s <= 100 for s in scores.values())


def test_empty_catalogue() -> None:
    assert Catalogue([]).match(["steam"]) == []
    assert len(Catalogue(PRODUCTS)) == len(PRODUCTS)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=15))
def test_match_never_raises(words: list[str]) -> None:
    results = Catalogue(PRODUCTS).match(words)
    assert len(results) <= 10
    assert [s for _, s in results] == sorted((s for _, s in results), reverse=True)
    assert all(0 <= s <= 100 for _, s in results)
