"""Plain-words status explanations: every status x category x language says something real."""
from __future__ import annotations

import re

import pytest

from adapters.base import CATEGORIES, STATUSES
from console.orders.explain import (
    Explanation,
    category_label,
    explain_status,
    normalise_lang,
    status_label,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
LANGS = ("en", "zh_CN")


def _fields(e: Explanation) -> tuple[str, ...]:
    return (e.title, e.text, e.expected_wait, e.next_step)


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("lang", LANGS)
def test_every_combination_has_text_in_the_right_language(status: str, category: str, lang: str) -> None:
    e = explain_status(status, category, lang)
    assert e.title and e.text and e.next_step
    for text in _fields(e):
        if lang == "en":
            assert text.isascii(), text
            assert not CJK.search(text)
        elif text:
            assert CJK.search(text), text


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("status", STATUSES)
def test_known_combinations_never_use_the_unknown_fallback(status: str, category: str) -> None:
    assert "does not recognise" not in explain_status(status, category, "en").text


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("status", STATUSES)
def test_languages_differ_and_agree_on_waiting(status: str, category: str) -> None:
    en, zh = explain_status(status, category, "en"), explain_status(status, category, "zh_CN")
    assert en.title != zh.title and en.text != zh.text and en.next_step != zh.next_step
    assert bool(en.expected_wait) == bool(zh.expected_wait)
    assert en.wait_minutes == zh.wait_minutes
    assert (en.wait_minutes is None) == (en.expected_wait == "")
    assert en.title == status_label(status, "en") and zh.title == status_label(status, "zh_CN")


@pytest.mark.parametrize("lang", LANGS)
def test_phone_topup_processing_mentions_minutes_and_peak(lang: str) -> None:
    e = explain_status("processing", "phone_topup", lang)
    assert e.wait_minutes == 10
    if lang == "en":
        assert "10 minutes" in e.text and "10 minutes" in e.expected_wait
        assert "peak" in e.expected_wait and "operator" in e.text
    else:
        assert "10分钟" in e.text and "10分钟" in e.expected_wait
        assert "高峰" in e.expected_wait and "运营商" in e.text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("status", ["paid", "processing", "delivered", "completed", "failed", "after_sales"])
def test_wording_depends_on_product_type(status: str, lang: str) -> None:
    topup, card = explain_status(status, "phone_topup", lang), explain_status(status, "game_card", lang)
    assert topup.text != card.text


@pytest.mark.parametrize("lang", LANGS)
def test_each_category_processes_in_its_own_words(lang: str) -> None:
    texts = {c: explain_status("processing", c, lang).text for c in CATEGORIES}
    assert len(set(texts.values())) == len(CATEGORIES)


def test_product_specific_facts() -> None:
    assert "server" in explain_status("processing", "game_topup", "en").text
    assert "区服" in explain_status("delivered", "game_topup", "zh_CN").text
    assert "order page" in explain_status("delivered", "gift_card", "en").text
    assert "email" in explain_status("delivered", "software_key", "en").text
    assert "邮箱" in explain_status("delivered", "virtual_currency", "zh").text
    assert "recipient account" in explain_status("delivered", "video_membership", "en").text
    assert "data package" in explain_status("processing", "data_topup", "en").text
    refunded = explain_status("refunded", "game_card", "en")
    assert "1-3 working days" in refunded.text and "Alipay" in refunded.text
    assert "原路退回" in explain_status("refunded", "phone_topup", "zh_CN").text
    assert "payment window" in explain_status("expired", "other", "en").text
    assert "refund" in explain_status("failed", "phone_topup", "en").next_step
    assert explain_status("completed", "game_card", "en").wait_minutes is None


def test_card_and_topup_failures_ask_for_different_actions() -> None:
    key = explain_status("failed", "software_key", "en").next_step
    topup = explain_status("failed", "data_topup", "en").next_step
    assert "Reissue" in key and "retry" in topup and key != topup


@pytest.mark.parametrize("alias", ["zh", "zh-CN", "zh_CN", "zh_Hans", "ZH-cn", "zh-Hans"])
def test_simplified_chinese_aliases(alias: str) -> None:
    assert normalise_lang(alias) == "zh_CN"
    assert explain_status("processing", "phone_topup", alias) == explain_status("processing", "phone_topup", "zh_CN")


@pytest.mark.parametrize("other", ["fr", "", "en-US", "zh_TW", "xx"])
def test_other_languages_fall_back_to_english(other: str) -> None:
    assert normalise_lang(other) == "en"
    assert explain_status("paid", "gift_card", other) == explain_status("paid", "gift_card", "en")


@pytest.mark.parametrize("status,category", [
    ("on_hold", "phone_topup"), ("processing", "lottery"), ("weird", "weird"), ("", ""),
])
@pytest.mark.parametrize("lang", LANGS)
def test_unknown_inputs_do_not_raise(status: str, category: str, lang: str) -> None:
    e = explain_status(status, category, lang)
    assert e.title and e.text and e.next_step


def test_unknown_category_reads_like_other() -> None:
    assert explain_status("processing", "lottery", "en") == explain_status("processing", "other", "en")


def test_unknown_status_is_generic_and_says_so() -> None:
    e = explain_status("on_hold", "phone_topup", "en")
    assert "on_hold" in e.text and e.wait_minutes is None and e.title == "On hold"
    assert "on_hold" in explain_status("on_hold", "phone_topup", "zh_CN").text


@pytest.mark.parametrize("status", STATUSES)
def test_status_labels(status: str) -> None:
    en, zh = status_label(status, "en"), status_label(status, "zh")
    assert en.isascii() and CJK.search(zh) and en != zh


@pytest.mark.parametrize("category", CATEGORIES)
def test_category_labels(category: str) -> None:
    en, zh = category_label(category, "en"), category_label(category, "zh_CN")
    assert en.isascii() and CJK.search(zh) and en != zh


def test_label_examples_and_unknowns() -> None:
    assert status_label("processing", "en") == "Processing"
    assert status_label("processing", "zh_CN") == "处理中"
    assert category_label("phone_topup", "zh") == "话费充值"
    assert status_label("on_hold", "en") == "On hold"
    assert "on_hold" in status_label("on_hold", "zh")
    assert category_label("lottery", "en") == "Other"
