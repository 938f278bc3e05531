"""The demo data generator: deterministic, complete, consistent with the JSONL schema."""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from itertools import islice

import pytest

from adapters.base import CATEGORIES, STATUSES, Order
from adapters.demo_data import (
    CARD_CATEGORIES,
    EVENT_KINDS,
    MOBILE_PREFIXES,
    catalogue,
    generate_orders,
    inventory,
)
from adapters.orders_jsonl import dump_line, parse_line

UTC = timezone.utc
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))
N = 5000
ALL_PREFIXES = {prefix for prefixes in MOBILE_PREFIXES.values() for prefix in prefixes}


@pytest.fixture(scope="module")
def orders() -> list[Order]:
    return list(generate_orders(N, seed=42, now=NOW))


def by_status(orders: list[Order], *statuses: str) -> list[Order]:
    return [o for o in orders if o.status in statuses]


def kinds(order: Order) -> list[str]:
    return [event.kind for event in order.events]


# --- determinism ----------------------------------------------------------------

def test_same_seed_and_now_give_the_same_orders(orders):
    assert list(islice(generate_orders(N, seed=42, now=NOW), 200)) == orders[:200]


def test_a_different_seed_gives_different_orders(orders):
    other = list(islice(generate_orders(N, seed=43, now=NOW), 200))
    assert [o.order_no for o in other] != [o.order_no for o in orders[:200]]
    assert [o.buyer for o in other] != [o.buyer for o in orders[:200]]


def test_generation_follows_now_not_the_clock():
    later = NOW + timedelta(days=3)
    first = next(iter(generate_orders(100, seed=1, now=later)))
    assert first.created_at >= later - timedelta(days=180)


def test_naive_now_is_taken_as_utc():
    naive = list(generate_orders(60, seed=5, now=NOW.replace(tzinfo=None)))
    assert naive == list(generate_orders(60, seed=5, now=NOW))


def test_now_defaults_to_the_clock():
    before = datetime.now(UTC)
    made = list(generate_orders(60, seed=3))
    assert all(o.created_at <= datetime.now(UTC) for o in made)
    assert max(o.created_at for o in made) > before - timedelta(days=1)


def test_zero_and_tiny_counts():
    assert list(generate_orders(0, now=NOW)) == []
    assert len(list(generate_orders(1, now=NOW))) == 1
    assert len(list(generate_orders(13, now=NOW))) == 13
    with pytest.raises(ValueError):
        generate_orders(-1, now=NOW)


# --- coverage of the vocabulary -------------------------------------------------

def test_every_category_and_status_appears(orders):
    assert {o.product.category for o in orders} == set(CATEGORIES)
    assert {o.status for o in orders} == set(STATUSES)


def test_status_mix_is_realistic(orders):
    counts = Counter(o.status for o in orders)
    assert (counts["completed"] + counts["delivered"]) / N > 0.75
    stuck = counts["paid"] + counts["processing"]
    assert 0 < stuck / N < 0.05


def test_event_kinds_are_from_the_documented_vocabulary(orders):
    assert {kind for o in orders for kind in kinds(o)} <= set(EVENT_KINDS)


def test_tags_channels_and_remarks_all_occur(orders):
    tags = Counter(tag for o in orders for tag in o.tags)
    assert set(tags) == {"repeat buyer", "suspicious", "agent purchase", "vip"}
    channels = {o.payment.channel for o in orders if o.payment}
    assert channels == {"alipay", "wechat", "usdt", "paypal", "unionpay"}
    assert 0 < sum(1 for o in orders if o.remark) < N * 0.2
    assert 0 < sum(1 for o in orders if o.search_password) < N


# --- the schema -----------------------------------------------------------------

def test_every_order_survives_the_jsonl_round_trip(orders):
    for order in orders:
        assert parse_line(dump_line(order)) == order


def test_order_numbers_are_unique_and_carry_the_local_date(orders):
    assert len({o.order_no for o in orders}) == N
    for order in orders:
        assert re.fullmatch(r"KD\d{18}", order.order_no)
        assert order.order_no[2:10] == order.created_at.astimezone(SHANGHAI).strftime("%Y%m%d")


def test_times_span_half_a_year_before_now_and_come_in_order(orders):
    created = [o.created_at for o in orders]
    assert created == sorted(created)
    assert NOW - timedelta(days=181) < created[0] < NOW - timedelta(days=170)
    assert created[-1] <= NOW
    for order in orders:
        times = [e.at for e in order.events]
        assert times == sorted(times) and times[0] == order.created_at and times[-1] <= NOW
        assert order.updated_at == times[-1]
        assert all(t.tzinfo is UTC for t in times)


def test_evenings_are_busier_than_small_hours(orders):
    hours = Counter(o.created_at.astimezone(SHANGHAI).hour for o in orders)
    assert hours[21] > 2 * hours[4]


# --- money ----------------------------------------------------------------------

def test_amounts_are_non_negative_and_within_face_value(orders):
    for order in orders:
        assert order.amount_paid >= 0 and order.discount >= 0 and order.refunded_amount >= 0
        assert order.refunded_amount <= order.amount_paid
        if order.face_value is not None:
            assert order.amount_paid <= order.face_value * order.quantity
            assert order.discount == order.face_value * order.quantity - order.amount_paid
        if order.payment is not None:
            assert order.payment.amount == order.amount_paid


def test_some_orders_carry_discounts_and_other_currencies(orders):
    assert any(o.discount > 0 for o in orders)
    assert {o.currency for o in orders} == {"CNY", "USD"}


# --- statuses and their stories -------------------------------------------------

def test_unpaid_orders_have_no_payment(orders):
    for order in by_status(orders, "pending_payment", "expired", "cancelled"):
        assert order.payment is None and order.paid_at is None and not order.card_keys
        assert "paid" not in kinds(order)
    for order in by_status(orders, "pending_payment"):
        assert kinds(order) == ["created"]
        assert NOW - order.created_at < timedelta(minutes=30)
    for order in by_status(orders, "expired"):
        assert kinds(order)[-1] == "expired"
    for order in by_status(orders, "cancelled"):
        assert kinds(order)[-1] == "cancelled"


def test_paid_orders_have_a_payment_proof(orders):
    for order in orders:
        if order.status in ("pending_payment", "expired", "cancelled"):
            continue
        assert order.payment is not None and order.paid_at == order.payment.paid_at
        assert "paid" in kinds(order) and order.payment.transaction_id and order.payment.payer


def test_refunded_orders_have_a_refunded_event_and_amount(orders):
    for order in by_status(orders, "refunded"):
        assert "refunded" in kinds(order)
        assert order.refunded_amount == order.amount_paid
        assert all(key.status == "voided" for key in order.card_keys)
    for order in by_status(orders, "partially_refunded"):
        assert "refunded" in kinds(order)
        assert 0 < order.refunded_amount < order.amount_paid


def test_delivered_card_orders_have_their_card_keys(orders):
    card_orders = [o for o in by_status(orders, "delivered", "completed")
                   if o.product.category in CARD_CATEGORIES]
    assert card_orders
    for order in card_orders:
        delivered = [k for k in order.card_keys if k.status == "delivered"]
        assert len(delivered) == order.quantity
        assert all(k.secret and k.serial and k.delivered_at for k in delivered)
        assert "delivered" in kinds(order)


def test_successful_orders_are_delivered_then_completed_after_72_hours(orders):
    for order in by_status(orders, "completed"):
        assert kinds(order)[-1] == "completed"
        assert order.events[-1].at - order.events[-2].at == timedelta(hours=72)
    for order in by_status(orders, "delivered"):
        assert "delivered" in kinds(order) and "completed" not in kinds(order)
        assert NOW - order.created_at < timedelta(hours=73)


def test_trouble_statuses_tell_their_story(orders):
    for order in by_status(orders, "failed"):
        assert kinds(order)[-1] == "failed"
    for order in by_status(orders, "after_sales"):
        assert "delivered" in kinds(order) and kinds(order)[-1] == "after_sales"
    for order in by_status(orders, "processing"):
        assert kinds(order)[-1] in ("supplier_answered", "manual_review")
    for order in by_status(orders, "paid"):
        assert kinds(order) == ["created", "paid"]


def test_supplier_answers_are_raw_json(orders):
    answers = [e.detail for o in orders for e in o.events if e.kind == "supplier_answered"]
    assert any('{"code":0,"msg":"success","order":"' in a for a in answers)
    assert any('{"code":1003,"msg":"余额不足"}' in a for a in answers)
    assert any("Gateway Timeout" in a for a in answers)


def test_direct_top_ups_name_their_supplier(orders):
    for order in orders:
        if "supplier_called" in kinds(order):
            assert order.supplier


# --- people and payment formats ---------------------------------------------------

def test_buyers_have_valid_chinese_mobiles_and_emails(orders):
    for order in orders:
        buyer = order.buyer
        assert buyer.phone or buyer.email
        if buyer.phone:
            assert re.fullmatch(r"1\d{10}", buyer.phone) and buyer.phone[:3] in ALL_PREFIXES
        if buyer.email:
            assert re.fullmatch(r"[^@\s]+@[a-z0-9.]+\.[a-z]+", buyer.email)
    domains = Counter(o.buyer.email.split("@")[1] for o in orders if o.buyer.email)
    assert {"qq.com", "163.com", "gmail.com", "outlook.com"} <= set(domains)


def test_phone_top_ups_go_to_a_number_of_the_right_operator(orders):
    top_ups = [o for o in orders if o.product.category in ("phone_topup", "data_topup")]
    assert top_ups
    for order in top_ups:
        assert order.operator in MOBILE_PREFIXES and order.region
        assert order.recipient_account[:3] in MOBILE_PREFIXES[order.operator]
        assert order.operator[2:] in order.product.name or "China" in order.product.name


def test_game_top_ups_name_an_account(orders):
    for order in orders:
        if order.product.category == "game_topup":
            assert order.recipient_account


def test_transaction_ids_follow_each_channel(orders):
    patterns = {
        "alipay": r"20\d{6}22001\d{15}",
        "wechat": r"42000\d{5}20\d{6}\d{10}",
        "unionpay": r"52\d{19}",
        "paypal": r"[0-9A-Z]{17}",
        "usdt": r"[0-9a-f]{64}",
    }
    for order in orders:
        if order.payment:
            assert re.fullmatch(patterns[order.payment.channel], order.payment.transaction_id)
            if order.payment.channel == "alipay":
                local = order.payment.paid_at.astimezone(SHANGHAI).strftime("%Y%m%d")
                assert order.payment.transaction_id.startswith(local)


def test_buyer_ips_are_ipv4_and_some_are_shared_by_many_buyers(orders):
    for order in orders:
        octets = order.buyer_ip.split(".")
        assert len(octets) == 4 and all(0 <= int(x) <= 255 for x in octets)
    buyers_per_ip: dict[str, set] = {}
    for order in orders:
        buyers_per_ip.setdefault(order.buyer_ip, set()).add(order.buyer)
    assert max(len(b) for b in buyers_per_ip.values()) >= 5
    suspicious = [o for o in orders if "suspicious" in o.tags]
    assert suspicious


def test_repeat_buyers_come_back(orders):
    counts = Counter(o.buyer for o in orders)
    assert sum(1 for c in counts.values() if c > 1) > 50
    assert any("repeat buyer" in o.tags for o in orders)


# --- catalogue and inventory ----------------------------------------------------

def test_catalogue_is_large_bilingual_and_covers_every_category():
    products = catalogue(42)
    assert len(products) >= 150
    assert len({p.sku for p in products}) == len(products)
    assert catalogue(1) == products
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for category in CATEGORIES:
        names = [p.name for p in products if p.category == category]
        assert any(cjk.search(n) for n in names), category
        assert any(not cjk.search(n) for n in names), category
    names = {p.name for p in products}
    for expected in ("腾讯Q币100元卡密", "中国移动话费充值50元", "中国联通流量包10GB",
                     "Steam Wallet Gift Card $20", "Apple App Store 礼品卡 100元",
                     "爱奇艺黄金会员月卡", "腾讯视频VIP季卡", "优酷会员年卡", "Windows 11 Pro 激活码"):
        assert expected in names


def test_inventory_stocks_only_card_products_deterministically():
    products = catalogue()
    keys = list(inventory(products, seed=7, per_product=3))
    assert keys == list(inventory(products, seed=7, per_product=3))
    assert keys != list(inventory(products, seed=8, per_product=3))
    skus = Counter(sku for sku, _ in keys)
    assert set(skus.values()) == {3}
    card_skus = {p.sku for p in products if p.category in CARD_CATEGORIES}
    assert card_skus <= set(skus)
    assert not {p.sku for p in products if p.category == "phone_topup"} & set(skus)
    assert all(k.status == "unsold" and k.delivered_at is None and k.secret for _, k in keys)
    assert len({k.secret for _, k in keys}) == len(keys)
