"""Realistic, deterministic demo orders (store-agnostic domain objects) for demos, bench and tests.

A demo is only convincing (and the search bench only honest) when the data looks like a
real card-key shop: Chinese and English products in every category, repeat buyers who
reuse their phone, IP and game account, a few IPs shared by many throw-away buyers, real
looking payment and supplier answers, stuck and failed orders among the happy ones.

Everything comes from ``random.Random(seed)`` and ``now``: the same pair always yields the
same orders.  The clock is read only when ``now`` is None.  Faker is used once per
process to build name pools; the per-order loop only picks from pools.

Formats chosen (documented so that tests and the search parser can rely on them):

* order numbers: ``KD`` + the shop-local (Asia/Shanghai) creation date ``yyyymmdd`` + 10
  digits, e.g. ``KD202611250384019265``; the 10 digits are a keyed permutation of the
  order's position, so numbers never repeat and never look sequential;
* orders come out in creation order; the last 30 minutes hold a small "live" tail of
  pending, just-paid and in-flight orders so even a small demo has every status;
* ``amount_paid`` is the order's price, also for unpaid orders (``payment`` is None
  there); ``face_value`` is per unit; ``discount = face_value * quantity - amount_paid``
  when there is a face value, else the coupon/wholesale reduction off the list price;
* delivered and completed card orders hold exactly ``quantity`` keys in ``delivered``
  state (plus ``reissued`` ones they replaced); refunded card orders hold ``voided`` keys;
* event kinds are those in ``EVENT_KINDS``; ``supplier_answered`` details hold the
  supplier's raw JSON answer.
"""
from __future__ import annotations

import functools
import random
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import accumulate
from typing import TypeVar

from adapters.base import Buyer, CardKey, Order, OrderEvent, PaymentProof, Product

__all__ = ["generate_orders", "catalogue", "inventory", "EVENT_KINDS", "CARD_CATEGORIES",
           "ORDER_PREFIX"]

ORDER_PREFIX = "KD"
EVENT_KINDS: tuple[str, ...] = (
    "created", "paid", "supplier_called", "supplier_answered", "key_generated",
    "manual_review", "retry", "delivered", "completed", "after_sales", "reissued",
    "failed", "refunded", "cancelled", "expired",
)
T = TypeVar("T")
CARD_CATEGORIES = frozenset({"game_card", "gift_card", "software_key"})

UTC = timezone.utc
LOCAL_OFFSET = 8 * 3600          # Asia/Shanghai, no daylight saving
DAY = 86400
SPAN_DAYS = 180
PAY_WINDOW = 30 * 60             # unpaid orders expire after 30 minutes
AUTO_COMPLETE = 72 * 3600        # delivered orders complete after 72 hours

DIGITS = "0123456789"
UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MS_KEY = "BCDFGHJKMPQRTVWXY2346789"
HEX_LOWER = "0123456789abcdef"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
OPENID = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
LOWER_DIGITS = "abcdefghijkmnpqrstuvwxyz23456789"

# --- catalogue ----------------------------------------------------------------

# One card-key shape: (prefix, alphabet, group lengths, separator).
_Shape = tuple[str, str, tuple[int, ...], str]
CARD_FORMATS: dict[str, tuple[_Shape, _Shape]] = {
    "qb": (("", DIGITS, (10,), ""), ("", DIGITS, (16,), "")),
    "netease": (("", DIGITS, (13,), ""), ("", DIGITS, (9,), "")),
    "jcard": (("", DIGITS, (16,), ""), ("", DIGITS, (16,), "")),
    "snda": (("CSD", DIGITS, (13,), ""), ("", DIGITS, (9,), "")),
    "bnet": (("", DIGITS, (10,), ""), ("", UPPER, (4, 4, 4, 4), "-")),
    "psn": (("", DIGITS, (12,), ""), ("", UPPER, (4, 4, 4), "-")),
    "eshop": (("", DIGITS, (16,), ""), ("", UPPER, (16,), "")),
    "xbox": (("", DIGITS, (12,), ""), ("", MS_KEY, (5, 5, 5, 5, 5), "-")),
    "apple": (("GCA", DIGITS, (13,), ""), ("X", UPPER, (15,), "")),
    "steam": (("", DIGITS, (10,), ""), ("", UPPER, (5, 5, 5), "-")),
    "google": (("", DIGITS, (10,), ""), ("", UPPER, (20,), "")),
    "netflix": (("", DIGITS, (10,), ""), ("", UPPER, (11,), "")),
    "amazon": (("", DIGITS, (12,), ""), ("", UPPER, (4, 6, 4), "-")),
    "jd": (("", UPPER, (4, 4, 4, 4), "-"), ("", UPPER, (4, 4, 4, 4), "-")),
    "store_card": (("", DIGITS, (16,), ""), ("", DIGITS, (8,), "")),
    "razer": (("", DIGITS, (12,), ""), ("", DIGITS, (14,), "")),
    "ms": (("KEY", DIGITS, (10,), ""), ("", MS_KEY, (5, 5, 5, 5, 5), "-")),
    "license": (("LIC", DIGITS, (10,), ""), ("", UPPER, (5, 5, 5, 5), "-")),
    "code": (("", DIGITS, (12,), ""), ("", UPPER, (4, 4, 4, 4), "-")),
}


@dataclass(frozen=True, slots=True)
class _Family:
    """Products sold the same way: how they are named, priced, delivered and to whom."""

    code: str
    category: str
    name: str                                  # "{v}" is the item label
    items: tuple[tuple[str, str | None, str | None], ...]  # (label, face value, list price)
    weight: float
    delivery: str = "direct"                   # "card" or "direct"
    card: str = "code"
    recipient: str | None = None               # which account a top-up goes to
    operator: str | None = None
    suppliers: tuple[str, ...] = ()
    currency: str = "CNY"
    ratio: tuple[float, float] = (0.95, 0.995)  # shop price / face value


def _faces(*values: int | str) -> tuple[tuple[str, str | None, str | None], ...]:
    return tuple((str(v), str(v), None) for v in values)


def _labelled(*pairs: tuple[str, str]) -> tuple[tuple[str, str | None, str | None], ...]:
    return tuple((label, face, None) for label, face in pairs)


def _priced(*pairs: tuple[str, str]) -> tuple[tuple[str, str | None, str | None], ...]:
    return tuple((label, None, price) for label, price in pairs)


CN_SUPPLIERS = ("云速充", "星河直充", "蓝鲸卡券", "快鸟充值")
GAME_SUPPLIERS = ("星河直充", "游易充", "蓝鲸卡券")
INTL_SUPPLIERS = ("GiftHub API", "CardPlus Global")
PHONE_OPS = ("中国移动", "中国联通", "中国电信")
MEMBER_TERMS_CN = _labelled(("月卡", "25"), ("季卡", "68"), ("年卡", "248"))
PHONE_FACES = _faces(10, 20, 30, 50, 100, 200, 300, 500)
DATA_PACKS = _labelled(("1GB", "5"), ("3GB", "10"), ("5GB", "20"), ("10GB", "30"),
                       ("20GB", "50"), ("30GB", "70"))

FAMILIES: tuple[_Family, ...] = (
    # game_card: prepaid game cards, delivered as card keys
    _Family("QB", "game_card", "腾讯Q币{v}元卡密", _faces(5, 10, 20, 30, 50, 100, 200), 9,
            "card", "qb", suppliers=("蓝鲸卡券",), ratio=(0.965, 0.99)),
    _Family("NETEASE", "game_card", "网易一卡通{v}元", _faces(10, 15, 30, 50, 100), 3.5,
            "card", "netease", ratio=(0.94, 0.98)),
    _Family("JCARD", "game_card", "骏网一卡通{v}元", _faces(10, 30, 50, 100, 200), 3,
            "card", "jcard", suppliers=("蓝鲸卡券",), ratio=(0.93, 0.97)),
    _Family("SNDA", "game_card", "盛大一卡通{v}元", _faces(10, 30, 50, 100), 1.5,
            "card", "snda", ratio=(0.93, 0.97)),
    _Family("WANMEI", "game_card", "完美一卡通{v}元", _faces(15, 30, 50), 1.2,
            "card", "netease", ratio=(0.93, 0.97)),
    _Family("BNET", "game_card", "暴雪战网一卡通{v}元", _faces(30, 50, 100), 1.5,
            "card", "bnet", ratio=(0.95, 0.985)),
    _Family("PSN", "game_card", "PlayStation Network Card ${v}", _faces(10, 20, 50), 1.5,
            "card", "psn", suppliers=INTL_SUPPLIERS, currency="USD", ratio=(0.92, 0.97)),
    _Family("ESHOP", "game_card", "Nintendo eShop Card ${v}", _faces(10, 20, 35), 1.2,
            "card", "eshop", suppliers=INTL_SUPPLIERS, currency="USD", ratio=(0.92, 0.97)),
    _Family("XGPU", "game_card", "Xbox Game Pass Ultimate {v}",
            _labelled(("1 Month", "16.99"), ("3 Months", "50.97")), 1,
            "card", "xbox", currency="USD", ratio=(0.7, 0.85)),
    # game_topup: direct top-up to a game account
    _Family("WZRY", "game_topup", "王者荣耀点券充值 {v}点券",
            _labelled(("60", "6"), ("300", "30"), ("680", "68"), ("1280", "128"),
                      ("3280", "328"), ("6480", "648")), 8,
            recipient="qq", suppliers=GAME_SUPPLIERS, ratio=(0.9, 0.97)),
    _Family("HPJY", "game_topup", "和平精英UC充值 {v}UC",
            _labelled(("60", "6"), ("300", "30"), ("680", "68"), ("1980", "198"),
                      ("3280", "328"), ("6480", "648")), 6,
            recipient="qq", suppliers=GAME_SUPPLIERS, ratio=(0.9, 0.97)),
    _Family("YS", "game_topup", "原神创世结晶 {v}",
            _labelled(("60", "6"), ("300+30", "30"), ("980+110", "98"), ("1980+260", "198"),
                      ("3280+600", "328"), ("6480+1600", "648")), 6,
            recipient="mihoyo", suppliers=GAME_SUPPLIERS, ratio=(0.88, 0.96)),
    _Family("LOL", "game_topup", "英雄联盟点券 {v}点券",
            _labelled(("1000", "10"), ("5000", "50"), ("10000", "100")), 3,
            recipient="qq", suppliers=GAME_SUPPLIERS, ratio=(0.92, 0.98)),
    _Family("CF", "game_topup", "穿越火线CF点 {v}点",
            _labelled(("1000", "10"), ("3000", "30"), ("10000", "100")), 1.5,
            recipient="qq", suppliers=GAME_SUPPLIERS, ratio=(0.92, 0.98)),
    _Family("XQTD", "game_topup", "崩坏：星穹铁道 古老梦华 {v}",
            _labelled(("60", "6"), ("300+30", "30"), ("980+110", "98"), ("1980+260", "198"),
                      ("6480+1600", "648")), 3,
            recipient="mihoyo", suppliers=GAME_SUPPLIERS, ratio=(0.88, 0.96)),
    _Family("EGGY", "game_topup", "蛋仔派对 蛋仔币 {v}",
            _labelled(("60", "6"), ("300", "30"), ("680", "68")), 1.5,
            recipient="uid", suppliers=GAME_SUPPLIERS, ratio=(0.9, 0.97)),
    _Family("PUBGM", "game_topup", "PUBG Mobile {v} UC",
            _labelled(("60", "0.99"), ("325", "4.99"), ("660", "9.99"), ("1800", "24.99")), 2,
            recipient="pubg", suppliers=INTL_SUPPLIERS, currency="USD", ratio=(0.9, 0.97)),
    _Family("FF", "game_topup", "Free Fire {v} Diamonds",
            _labelled(("100", "0.99"), ("310", "2.99"), ("520", "4.99"), ("1060", "9.99")), 1.2,
            recipient="uid", suppliers=INTL_SUPPLIERS, currency="USD", ratio=(0.9, 0.97)),
    _Family("MLBB", "game_topup", "Mobile Legends {v} Diamonds",
            _labelled(("86", "1.59"), ("172", "3.19"), ("257", "4.79"), ("706", "12.99")), 1.2,
            recipient="mlbb", suppliers=INTL_SUPPLIERS, currency="USD", ratio=(0.9, 0.97)),
    # phone_topup: mobile credit to a number of the right operator
    _Family("CMCC", "phone_topup", "中国移动话费充值{v}元", PHONE_FACES, 9,
            recipient="phone", operator="中国移动", suppliers=CN_SUPPLIERS, ratio=(0.96, 0.995)),
    _Family("CUCC", "phone_topup", "中国联通话费充值{v}元", PHONE_FACES, 5,
            recipient="phone", operator="中国联通", suppliers=CN_SUPPLIERS, ratio=(0.96, 0.995)),
    _Family("CTCC", "phone_topup", "中国电信话费充值{v}元", PHONE_FACES, 4,
            recipient="phone", operator="中国电信", suppliers=CN_SUPPLIERS, ratio=(0.96, 0.995)),
    _Family("CMCCEN", "phone_topup", "China Mobile Prepaid Top-up ¥{v}", _faces(50, 100, 200), 0.8,
            recipient="phone", operator="中国移动", suppliers=CN_SUPPLIERS, ratio=(0.97, 0.995)),
    _Family("CUCCEN", "phone_topup", "China Unicom Prepaid Top-up ¥{v}", _faces(50, 100, 200), 0.5,
            recipient="phone", operator="中国联通", suppliers=CN_SUPPLIERS, ratio=(0.97, 0.995)),
    _Family("CTCCEN", "phone_topup", "China Telecom Prepaid Top-up ¥{v}", _faces(50, 100, 200), 0.4,
            recipient="phone", operator="中国电信", suppliers=CN_SUPPLIERS, ratio=(0.97, 0.995)),
    # data_topup: mobile data packs
    _Family("CMDATA", "data_topup", "中国移动流量包{v}", DATA_PACKS, 2.5,
            recipient="phone", operator="中国移动", suppliers=CN_SUPPLIERS, ratio=(0.9, 0.98)),
    _Family("CUDATA", "data_topup", "中国联通流量包{v}", DATA_PACKS, 2,
            recipient="phone", operator="中国联通", suppliers=CN_SUPPLIERS, ratio=(0.9, 0.98)),
    _Family("CTDATA", "data_topup", "中国电信流量包{v}", DATA_PACKS, 1.5,
            recipient="phone", operator="中国电信", suppliers=CN_SUPPLIERS, ratio=(0.9, 0.98)),
    _Family("CUDATAEN", "data_topup", "China Unicom Data Pack {v} (30 days)",
            _labelled(("5GB", "20"), ("10GB", "30"), ("20GB", "50")), 0.4,
            recipient="phone", operator="中国联通", suppliers=CN_SUPPLIERS, ratio=(0.9, 0.98)),
    _Family("CTDATAEN", "data_topup", "China Telecom Data Pack {v} (30 days)",
            _labelled(("5GB", "20"), ("10GB", "30"), ("20GB", "50")), 0.4,
            recipient="phone", operator="中国电信", suppliers=CN_SUPPLIERS, ratio=(0.9, 0.98)),
    # video_membership
    _Family("IQIYI", "video_membership", "爱奇艺黄金会员{v}", MEMBER_TERMS_CN, 4,
            recipient="phone", suppliers=CN_SUPPLIERS, ratio=(0.6, 0.85)),
    _Family("IQIYIPT", "video_membership", "爱奇艺白金会员{v}",
            _labelled(("月卡", "40"), ("年卡", "348")), 1.5,
            recipient="phone", suppliers=CN_SUPPLIERS, ratio=(0.6, 0.85)),
    _Family("TXSP", "video_membership", "腾讯视频VIP{v}",
            _labelled(("月卡", "30"), ("季卡", "88"), ("年卡", "258")), 4,
            recipient="qq", suppliers=CN_SUPPLIERS, ratio=(0.6, 0.85)),
    _Family("YOUKU", "video_membership", "优酷会员{v}",
            _labelled(("月卡", "25"), ("季卡", "68"), ("年卡", "198")), 2.5,
            recipient="phone", suppliers=CN_SUPPLIERS, ratio=(0.55, 0.8)),
    _Family("MGTV", "video_membership", "芒果TV会员{v}",
            _labelled(("月卡", "22"), ("季卡", "60"), ("年卡", "218")), 1.5,
            recipient="phone", suppliers=CN_SUPPLIERS, ratio=(0.55, 0.8)),
    _Family("BILI", "video_membership", "哔哩哔哩大会员{v}",
            _labelled(("月卡", "25"), ("年卡", "168")), 2,
            recipient="uid", suppliers=CN_SUPPLIERS, ratio=(0.7, 0.9)),
    _Family("DISNEY", "video_membership", "Disney+ Premium {v}",
            _labelled(("1 Month", "13.99"), ("12 Months", "139.99")), 0.6,
            "card", "code", recipient="email", currency="USD", ratio=(0.8, 0.92)),
    _Family("IQIYIEN", "video_membership", "iQIYI VIP Standard {v}",
            _labelled(("1 Month", "4.99"), ("12 Months", "49.99")), 0.5,
            "card", "code", recipient="email", currency="USD", ratio=(0.8, 0.92)),
    # gift_card
    _Family("JDE", "gift_card", "京东E卡{v}元", _faces(50, 100, 200, 500, 1000), 4,
            "card", "jd", ratio=(0.97, 0.995)),
    _Family("TMALL", "gift_card", "天猫超市卡{v}元", _faces(100, 200, 500), 1.5,
            "card", "store_card", ratio=(0.97, 0.995)),
    _Family("SBUX", "gift_card", "星巴克电子礼品卡{v}元", _faces(50, 100, 200), 1,
            "card", "store_card", ratio=(0.9, 0.97)),
    _Family("APPLE", "gift_card", "Apple App Store 礼品卡 {v}元", _faces(50, 100, 200, 500, 1000), 3.5,
            "card", "apple", suppliers=("蓝鲸卡券",), ratio=(0.95, 0.99)),
    _Family("STEAM", "gift_card", "Steam Wallet Gift Card ${v}", _faces(5, 10, 20, 50, 100), 3,
            "card", "steam", suppliers=INTL_SUPPLIERS, currency="USD", ratio=(0.9, 0.97)),
    _Family("GPLAY", "gift_card", "Google Play Gift Card ${v}", _faces(10, 25, 50), 1.2,
            "card", "google", suppliers=INTL_SUPPLIERS, currency="USD", ratio=(0.9, 0.96)),
    _Family("NFLX", "gift_card", "Netflix Gift Card ${v}", _faces(25, 50), 0.8,
            "card", "netflix", suppliers=INTL_SUPPLIERS, currency="USD", ratio=(0.9, 0.96)),
    _Family("AMZN", "gift_card", "Amazon.com Gift Card ${v}", _faces(25, 50, 100), 1,
            "card", "amazon", suppliers=INTL_SUPPLIERS, currency="USD", ratio=(0.9, 0.96)),
    # virtual_currency
    _Family("QBDC", "virtual_currency", "腾讯Q币直充 {v}个", _faces(10, 30, 50, 100, 200), 4,
            recipient="qq", suppliers=CN_SUPPLIERS, ratio=(0.97, 0.995)),
    _Family("DOUYIN", "virtual_currency", "抖音抖币充值 {v}抖币",
            _labelled(("100", "10"), ("300", "30"), ("980", "98"), ("3000", "300")), 2.5,
            recipient="douyin", suppliers=CN_SUPPLIERS, ratio=(0.9, 0.97)),
    _Family("KUAISHOU", "virtual_currency", "快手快币充值 {v}快币",
            _labelled(("100", "10"), ("300", "30"), ("1000", "100")), 1.5,
            recipient="uid", suppliers=CN_SUPPLIERS, ratio=(0.9, 0.97)),
    _Family("DOUYU", "virtual_currency", "斗鱼鱼翅充值 {v}鱼翅", _faces(10, 50, 100), 0.8,
            recipient="uid", suppliers=CN_SUPPLIERS, ratio=(0.92, 0.98)),
    _Family("TIKTOK", "virtual_currency", "TikTok Coins {v}",
            _labelled(("70", "0.99"), ("350", "4.99"), ("1400", "19.99")), 0.8,
            recipient="handle", suppliers=INTL_SUPPLIERS, currency="USD", ratio=(0.88, 0.96)),
    _Family("RAZER", "virtual_currency", "Razer Gold PIN ${v}", _faces(10, 20, 50), 0.8,
            "card", "razer", suppliers=INTL_SUPPLIERS, currency="USD", ratio=(0.92, 0.97)),
    # software_key: no face value, a list price instead
    _Family("MSKEY", "software_key", "{v}",
            _priced(("Windows 11 Pro 激活码", "49.00"), ("Windows 11 Home 激活码", "39.00"),
                    ("Windows 10 Pro Retail Key", "35.00"),
                    ("Microsoft Office 2021 Professional Plus license key", "69.00"),
                    ("Microsoft Office 2019 专业增强版 激活码", "45.00"),
                    ("Microsoft 365 Family 1 Year", "299.00"),
                    ("Microsoft 365 个人版 年卡", "199.00")), 4, "card", "ms"),
    _Family("SOFT", "software_key", "{v}",
            _priced(("JetBrains All Products Pack 1 Year", "1299.00"),
                    ("卡巴斯基安全软件 1年 3设备", "99.00"),
                    ("Kaspersky Total Security 1 Year", "129.00"),
                    ("ESET NOD32 防病毒软件 1年", "88.00"),
                    ("WPS超级会员 年卡 激活码", "139.00"),
                    ("VMware Workstation 17 Pro License Key", "89.00"),
                    ("Navicat Premium 16 永久授权", "399.00"),
                    ("Parallels Desktop 19 for Mac 年度订阅", "498.00")), 2, "card", "license"),
    # other memberships and services
    _Family("BDWP", "other", "百度网盘超级会员{v}", _labelled(("月卡", "30"), ("年卡", "298")), 2,
            recipient="phone", suppliers=CN_SUPPLIERS, ratio=(0.7, 0.9)),
    _Family("NCM", "other", "网易云音乐黑胶VIP{v}", _labelled(("月卡", "15"), ("年卡", "158")), 1.5,
            recipient="phone", suppliers=CN_SUPPLIERS, ratio=(0.6, 0.85)),
    _Family("QQMUSIC", "other", "QQ音乐绿钻豪华版{v}", _labelled(("月卡", "18"), ("年卡", "180")), 1.2,
            recipient="qq", suppliers=CN_SUPPLIERS, ratio=(0.6, 0.85)),
    _Family("XUNLEI", "other", "迅雷白金会员{v}", _labelled(("月卡", "15"), ("年卡", "149")), 0.8,
            recipient="phone", suppliers=CN_SUPPLIERS, ratio=(0.6, 0.85)),
    _Family("ELEME", "other", "饿了么超级会员{v}", _labelled(("月卡", "15"), ("季卡", "45")), 1,
            recipient="phone", suppliers=CN_SUPPLIERS, ratio=(0.6, 0.85)),
    _Family("SPOTIFY", "other", "Spotify Premium {v}",
            _labelled(("1 Month", "10.99"), ("3 Months", "32.97")), 0.6,
            "card", "code", recipient="email", currency="USD", ratio=(0.8, 0.92)),
    _Family("TGPREM", "other", "Telegram Premium {v}",
            _labelled(("3 Months", "11.99"), ("12 Months", "35.99")), 0.6,
            recipient="handle", suppliers=INTL_SUPPLIERS, currency="USD", ratio=(0.85, 0.95)),
    _Family("APMUSIC", "other", "Apple Music 个人会员{v}", _labelled(("月卡", "11"), ("年卡", "108")), 0.7,
            recipient="email", suppliers=CN_SUPPLIERS, ratio=(0.75, 0.92)),
)


@dataclass(frozen=True, slots=True)
class _Spec:
    """A catalogue product with what only the generator needs: family, price, popularity."""

    product: Product
    family: _Family
    face: int | None        # cents per unit
    price: int              # cents per unit, the shop's list price
    weight: float


def _cents(text: str) -> int:
    return int((Decimal(text) * 100).to_integral_value())


def _dec(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _sku(family: _Family, index: int, label: str) -> str:
    tail = label if family.name != "{v}" else f"{index + 1:02d}"
    tail = "".join(ch for ch in tail.upper() if ch.isascii() and ch.isalnum()) or f"{index + 1:02d}"
    return f"{family.code}-{tail}"


def _unit_price(family: _Family, sku: str, face: int | None, list_price: str | None) -> int:
    """The shop's fixed price, stable per SKU whatever the seed (so screenshots stay true)."""
    if face is None:
        return _cents(list_price or "0")
    low, high = family.ratio
    ratio = random.Random(sku).uniform(low, high)
    return max(1, min(face, int(face * ratio)))


@functools.cache
def _specs() -> tuple[_Spec, ...]:
    specs = []
    for family in FAMILIES:
        count = len(family.items)
        for index, (label, face_text, list_price) in enumerate(family.items):
            sku = _sku(family, index, label)
            face = _cents(face_text) if face_text else None
            product = Product(sku=sku, name=family.name.format(v=label), category=family.category,
                              face_value=_dec(face) if face is not None else None)
            popularity = 1.6 if count > 2 and 0 < index < count - 1 else 1.0
            specs.append(_Spec(product, family, face, _unit_price(family, sku, face, list_price),
                               family.weight * popularity / count))
    return tuple(specs)


def catalogue(seed: int = 42) -> list[Product]:
    """Every demo product (~230, all categories, Chinese and English names).

    The catalogue is the same for every seed so SKUs and prices stay stable across demo
    instances and docs; ``seed`` is accepted for symmetry with the other generators.
    """
    del seed
    return [spec.product for spec in _specs()]


# --- small random helpers (all take the generator's Random) -----------------

def _digits(rng: random.Random, count: int) -> str:
    return f"{rng.randrange(10 ** count):0{count}d}"


def _code(rng: random.Random, alphabet: str, count: int) -> str:
    return "".join(rng.choices(alphabet, k=count))


def _shape(rng: random.Random, shape: _Shape) -> str:
    prefix, alphabet, groups, sep = shape
    if alphabet is DIGITS:
        parts = [_digits(rng, size) for size in groups]
    else:
        parts = [_code(rng, alphabet, size) for size in groups]
    return prefix + sep.join(parts)


def _card_format(product: Product) -> str | None:
    spec = _by_sku().get(product.sku)
    if spec is not None:
        return spec.family.card if spec.family.delivery == "card" else None
    return "code" if product.category in CARD_CATEGORIES else None


@functools.cache
def _by_sku() -> dict[str, _Spec]:
    return {spec.product.sku: spec for spec in _specs()}


def _new_key(rng: random.Random, card: str, status: str = "delivered",
             delivered_at: datetime | None = None) -> CardKey:
    serial_shape, secret_shape = CARD_FORMATS[card]
    return CardKey(_shape(rng, serial_shape), _shape(rng, secret_shape), status, delivered_at)


def inventory(products: Iterable[Product], seed: int = 42,
              per_product: int = 50) -> Iterator[tuple[str, CardKey]]:
    """Unsold card keys ``(sku, key)`` for every card-delivered product, for stocking a store.

    Direct top-up products have no keys.  Unknown products in a card category get a
    generic 4x4 code.
    """
    rng = random.Random(f"inventory:{seed}")
    for product in products:
        card = _card_format(product)
        if card is None:
            continue
        for _ in range(per_product):
            yield product.sku, _new_key(rng, card, status="unsold")


# --- people ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Pools:
    zh_names: tuple[str, ...]
    en_names: tuple[str, ...]
    zh_users: tuple[str, ...]
    en_users: tuple[str, ...]


@functools.cache
def _pools() -> _Pools:
    """Name pools built once per process with a fixed Faker seed; orders only pick from them."""
    from faker import Faker

    zh, en = Faker("zh_CN"), Faker("en_US")
    zh.seed_instance(20261125)
    en.seed_instance(20261125)
    return _Pools(
        zh_names=tuple(zh.name() for _ in range(3000)),
        en_names=tuple(f"{en.first_name()} {en.last_name()}" for _ in range(1500)),
        zh_users=tuple(dict.fromkeys(zh.user_name() for _ in range(3000))),
        en_users=tuple(dict.fromkeys(en.user_name() for _ in range(1500))),
    )


MOBILE_PREFIXES = {
    "中国移动": ("134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157",
             "158", "159", "172", "178", "182", "183", "184", "187", "188", "195", "198"),
    "中国联通": ("130", "131", "132", "145", "155", "156", "166", "175", "176", "185", "186", "196"),
    "中国电信": ("133", "149", "153", "173", "177", "180", "181", "189", "190", "191", "193", "199"),
}
OPERATOR_CUM = [58, 83, 100]
QUANTITY_CUM = [82, 91, 95, 98, 100]
PROVINCES = (
    ("广东", 12), ("江苏", 7), ("浙江", 6.5), ("山东", 6.5), ("河南", 6), ("四川", 5.5),
    ("湖北", 4.5), ("湖南", 4.5), ("河北", 4.5), ("福建", 4), ("上海", 3.5), ("北京", 3.5),
    ("安徽", 3.5), ("广西", 3), ("陕西", 2.8), ("江西", 2.6), ("重庆", 2.5), ("辽宁", 2.5),
    ("云南", 2.3), ("山西", 2), ("贵州", 2), ("黑龙江", 1.8), ("吉林", 1.3), ("内蒙古", 1.2),
    ("天津", 1.3), ("新疆", 1), ("甘肃", 1), ("海南", 0.9), ("宁夏", 0.4), ("青海", 0.3), ("西藏", 0.2),
)
CN_MAIL = (("qq.com", 42), ("163.com", 18), ("126.com", 7), ("gmail.com", 8), ("outlook.com", 6),
           ("foxmail.com", 5), ("sina.com", 4), ("hotmail.com", 3), ("icloud.com", 4),
           ("139.com", 3))
EN_MAIL = (("gmail.com", 55), ("outlook.com", 18), ("hotmail.com", 10), ("yahoo.com", 10),
           ("icloud.com", 7))
CN_IP_FIRST = (36, 39, 42, 58, 59, 60, 61, 101, 106, 111, 112, 113, 114, 115, 116, 117, 118,
               119, 120, 121, 122, 123, 124, 125, 139, 171, 175, 180, 182, 183, 202, 210, 211,
               218, 219, 220, 221, 222, 223)
INTL_IP_FIRST = (24, 50, 67, 68, 73, 76, 81, 86, 92, 98, 109, 151, 172, 174, 185, 203)
HOSTING_IP_FIRST = (45, 47, 103, 104, 154, 156)


class _Customer:
    """A buyer and the things they reuse across orders: IPs, game accounts, payer ids."""

    __slots__ = ("buyer", "name", "english", "ips", "province", "operator", "vip", "agent",
                 "orders", "accounts", "payers")

    def __init__(self, buyer: Buyer, name: str, english: bool, ips: list[str], province: str,
                 operator: str | None) -> None:
        self.buyer, self.name, self.english = buyer, name, english
        self.ips, self.province, self.operator = ips, province, operator
        self.vip = self.agent = False
        self.orders = 0
        self.accounts: dict[str, str] = {}
        self.payers: dict[str, str] = {}


def _cum(weights: Iterable[float]) -> list[float]:
    return list(accumulate(weights))


def _pick(rng: random.Random, items: Sequence[T], cum: Sequence[float]) -> T:
    """``rng.choices(items, cum_weights=cum)[0]`` without its per-call overhead."""
    return items[bisect_right(cum, rng.random() * cum[-1])]


# --- payment -----------------------------------------------------------------

CNY_CHANNELS = ("alipay", "wechat", "unionpay", "usdt")
CNY_CHANNEL_CUM = _cum((48, 36, 6, 10))
USD_CHANNELS = ("paypal", "usdt")
USD_CHANNEL_CUM = _cum((60, 40))
USDT_RATE = {"CNY": Decimal("7.12"), "USD": Decimal("1")}

# --- supplier answers --------------------------------------------------------

CN_ERRORS = {
    "phone": ((1005, "号码与运营商不匹配"), (1012, "该地区暂不支持充值"), (1003, "余额不足")),
    "game": ((1008, "充值账号不存在"), (1010, "商品维护中"), (1003, "余额不足")),
    "any": ((1003, "余额不足"), (5000, "系统繁忙，请稍后再试"), (1010, "商品维护中"),
            (2002, "订单重复提交")),
}
EN_ERRORS = (("insufficient_balance", "Insufficient balance"),
             ("invalid_account", "Player ID not found"),
             ("out_of_stock", "Product out of stock"), ("rate_limited", "Too many requests"))

BUYER_REMARKS = {
    "game_topup": ("区服：安卓QQ区", "区服：苹果微信区", "角色名：{name}", "帮朋友充的，谢谢",
                   "Server: Asia", "急，今晚活动要用"),
    "phone_topup": ("帮家里人充的", "急用，尽快到账", "号码是{phone}，别充错了", "Top up asap please"),
    "data_topup": ("月底流量不够了，尽快", "帮家里人充的"),
    "card": ("请发到邮箱", "急用，谢谢！", "Please send the code to my email",
             "卡密请发送到QQ邮箱", "需要开发票"),
    "any": ("谢谢老板", "第一次买，请多关照", "Thanks!", "请尽快处理"),
}
AFTER_SALES_REASONS = {
    "card": ("买家反馈卡密无效", "卡密显示已被使用", "Code already redeemed", "兑换时提示卡号或密码错误"),
    "direct": ("买家称充值未到账", "充错账号，申请退款", "Top-up not received", "到账金额不对"),
}
REFUND_REASONS = ("买家申请退款（未使用）", "重复下单，退回一笔", "Buyer changed mind before delivery",
                  "价格调整，退还差价")


def _now_ts(now: datetime | None) -> int:
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return int(now.timestamp())


def _local_day_start(ts: int) -> int:
    """UTC epoch of the shop-local midnight before ``ts``."""
    return (ts + LOCAL_OFFSET) // DAY * DAY - LOCAL_OFFSET


HOUR_WEIGHTS = (0.55, 0.35, 0.22, 0.15, 0.12, 0.12, 0.2, 0.35, 0.6, 0.8, 0.95, 1.0,
                1.05, 0.95, 0.95, 1.0, 1.0, 0.95, 1.0, 1.2, 1.4, 1.5, 1.35, 0.9)
WEEKDAY_WEIGHTS = (0.95, 0.95, 0.97, 1.0, 1.1, 1.2, 1.15)   # Monday first
PROMO_DAYS = {(11, 11): 2.6, (11, 10): 1.4, (6, 18): 2.0, (12, 12): 1.6, (1, 1): 1.3,
              (5, 1): 1.3, (10, 1): 1.4, (2, 14): 1.2}


def _scrambler(seed: int):
    """A keyed bijection of [0, 10**10), so order numbers are unique and look random."""
    keyer = random.Random(f"order_no:{seed}")
    mask = (1 << 34) - 1
    mul1, mul2 = keyer.randrange(1 << 33) * 2 + 1, keyer.randrange(1 << 33) * 2 + 1
    add1, add2 = keyer.randrange(1 << 34), keyer.randrange(1 << 34)
    limit = 10 ** 10

    def scramble(value: int) -> int:
        while True:  # cycle-walking keeps a permutation of 2**34 inside 10**10
            value = (value * mul1 + add1) & mask
            value ^= value >> 15
            value = (value * mul2 + add2) & mask
            value ^= value >> 13
            if value < limit:
                return value

    return scramble


# --- statuses ------------------------------------------------------------------

# Per mille by order age; the rest succeed (delivered, or completed after 72 hours).
# Unresolved trouble (stuck, failed, open after-sales) is mostly recent, as in a real queue.
_STATUS_BY_AGE: tuple[tuple[float, dict[str, float]], ...] = (
    (3 * DAY, {"expired": 45, "cancelled": 25, "failed": 14, "paid": 7, "processing": 14,
               "after_sales": 20, "refunded": 28, "partially_refunded": 8}),
    (7 * DAY, {"expired": 45, "cancelled": 25, "failed": 12, "paid": 4, "processing": 8,
               "after_sales": 18, "refunded": 30, "partially_refunded": 8}),
    (30 * DAY, {"expired": 45, "cancelled": 25, "failed": 4, "paid": 2, "processing": 4,
                "after_sales": 7, "refunded": 30, "partially_refunded": 8}),
    (60 * DAY, {"expired": 45, "cancelled": 25, "failed": 2, "paid": 1, "processing": 2,
                "after_sales": 1.5, "refunded": 30, "partially_refunded": 8}),
    (float("inf"), {"expired": 45, "cancelled": 25, "failed": 1, "paid": 0.5, "processing": 1,
                    "after_sales": 0.3, "refunded": 30, "partially_refunded": 8}),
)
# The live tail (last 30 minutes): waiting for payment or in flight.
_LIVE_STATUSES = {"pending_payment": 30, "success": 45, "paid": 5, "processing": 8,
                  "cancelled": 7, "failed": 5}


def _table(weights: Mapping[str, float]) -> tuple[tuple[str, ...], list[float]]:
    """Names and cumulative weights; what the per-mille table leaves over is "success"."""
    weights = dict(weights)
    weights.setdefault("success", 1000 - sum(weights.values()))
    return tuple(weights), _cum(weights.values())


_AGE_TABLES = tuple((limit, _table(weights)) for limit, weights in _STATUS_BY_AGE)
_LIVE_TABLE = _table(_LIVE_STATUSES)


class _Draft:
    """One order being told: its clock, its log and what the story decided."""

    __slots__ = ("spec", "customer", "qty", "amount", "recipient", "ip", "channel", "t", "now",
                 "events", "keys", "supplier", "refunded", "status")

    def __init__(self, spec: _Spec, customer: _Customer, qty: int, amount: int,
                 recipient: str | None, ip: str, ts: int, now: int) -> None:
        self.spec, self.customer, self.qty, self.amount = spec, customer, qty, amount
        self.recipient, self.ip, self.t, self.now = recipient, ip, ts, now
        self.channel = ""
        self.events: list[tuple[int, str, str]] = []
        self.keys: list[CardKey] = []
        self.supplier: str | None = None
        self.refunded = 0
        self.status = ""

    def add(self, gap: int, kind: str, detail: str) -> int:
        """Log an event ``gap`` seconds after the previous one, never after ``now``."""
        self.t = min(self.t + gap, self.now)
        self.events.append((self.t, kind, detail))
        return self.t


def _money_text(cents: int, currency: str) -> str:
    return f"{cents // 100}.{cents % 100:02d} {currency}"


class _Generator:
    """Holds the pools and the random stream for one ``generate_orders`` call."""

    def __init__(self, n: int, seed: int, now: int) -> None:
        self.rng = random.Random(seed)
        self.n, self.now = n, now
        self.pools = _pools()
        self.specs = _specs()
        self.spec_cum = _cum(s.weight for s in self.specs)
        self.cashable = [s for s in self.specs if s.family.category in ("gift_card", "game_card")]
        self.cashable_cum = _cum(s.weight for s in self.cashable)
        self.scramble = _scrambler(seed)
        self.province_names = tuple(p for p, _ in PROVINCES)
        self.province_cum = _cum(w for _, w in PROVINCES)
        self.cn_mail = (tuple(d for d, _ in CN_MAIL), _cum(w for _, w in CN_MAIL))
        self.en_mail = (tuple(d for d, _ in EN_MAIL), _cum(w for _, w in EN_MAIL))
        self.shared_ips = [self._ip(CN_IP_FIRST) for _ in range(30)]
        self.recent: list[_Customer] = []
        self.recent_at = 0
        self.loyal = [self._new_customer() for _ in range(max(50, n // 60))]
        for index, customer in enumerate(self.loyal):
            customer.vip = index < len(self.loyal) // 12
            customer.agent = index % 29 == 3
        self.first_day = _local_day_start(now) - (SPAN_DAYS - 1) * DAY
        self.fraud = self._fraud_windows()
        self.ymd_cache: dict[int, str] = {}

    # -- time -------------------------------------------------------------------

    def _day_weight(self, index: int, day_start: int) -> float:
        local = datetime.fromtimestamp(day_start + LOCAL_OFFSET, UTC)
        trend = 0.55 + 0.45 * index / (SPAN_DAYS - 1)  # the shop is growing
        promo = PROMO_DAYS.get((local.month, local.day), 1.0)
        return trend * WEEKDAY_WEIGHTS[local.weekday()] * promo * self.rng.uniform(0.85, 1.15)

    def _hour_cum(self, limit: int) -> list[float]:
        """Hourly rhythm for the first ``limit`` seconds of a day (the last day is partial)."""
        weights = []
        for hour, weight in enumerate(HOUR_WEIGHTS):
            covered = min(max(limit - hour * 3600, 0), 3600)
            weights.append(weight * covered / 3600)
        return _cum(weights)

    def _times(self) -> Iterator[tuple[int, str | None]]:
        """Creation times in order: the bulk over 180 days, then the live last 30 minutes."""
        n = self.n
        tail = 0 if n < 50 else min(n // 4, max(8, round(n * PAY_WINDOW / (SPAN_DAYS * DAY) * 1.5)))
        bulk_end = self.now - PAY_WINDOW
        days, weights = [], []
        for index in range(SPAN_DAYS):
            start = self.first_day + index * DAY
            if start >= bulk_end:
                break
            limit = min(DAY, bulk_end - start)
            hours = self._hour_cum(limit)
            days.append((start, limit, hours))
            weights.append(self._day_weight(index, start) * hours[-1] / sum(HOUR_WEIGHTS))
        yield from self._bulk_times(n - tail, days, weights)
        yield from self._live_times(tail, bulk_end)

    def _bulk_times(self, count: int, days: list[tuple[int, int, list[float]]],
                    weights: list[float]) -> Iterator[tuple[int, str | None]]:
        """Systematic sampling spreads ``count`` over the days exactly, in order, in O(days) memory."""
        rng, total, offset = self.rng, sum(weights), self.rng.random()
        running, placed = 0.0, 0
        for position, ((start, limit, hours), weight) in enumerate(zip(days, weights)):
            running += weight
            last = position == len(days) - 1
            upto = count if last else min(count, int(count * running / total + offset))
            today, placed = upto - placed, upto
            if today <= 0:
                continue
            seconds = sorted(hour * 3600 + rng.randrange(max(1, min(3600, limit - hour * 3600)))
                             for hour in rng.choices(range(24), cum_weights=hours, k=today))
            for second in seconds:
                yield start + second, None

    def _live_times(self, count: int, start: int) -> Iterator[tuple[int, str | None]]:
        if count <= 0:
            return
        names, cum = _LIVE_TABLE
        statuses = ["pending_payment", "paid", "processing"][:count]
        statuses += self.rng.choices(names, cum_weights=cum, k=count - len(statuses))
        self.rng.shuffle(statuses)
        moments = sorted(start + self.rng.randrange(PAY_WINDOW) for _ in range(count))
        yield from zip(moments, statuses)

    def _ymd(self, ts: int) -> str:
        day = (ts + LOCAL_OFFSET) // DAY
        text = self.ymd_cache.get(day)
        if text is None:
            text = (date(1970, 1, 1) + timedelta(days=day)).strftime("%Y%m%d")
            self.ymd_cache[day] = text
        return text

    # -- people -----------------------------------------------------------------

    def _ip(self, firsts: tuple[int, ...]) -> str:
        rng = self.rng
        return f"{rng.choice(firsts)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"

    def _phone(self, operator: str) -> str:
        return self.rng.choice(MOBILE_PREFIXES[operator]) + _digits(self.rng, 8)

    def _qq(self) -> str:
        rng = self.rng
        size = _pick(rng, (8, 9, 10), [10, 50, 100])
        lead = rng.choice("123" if size == 10 else "123456789")
        return lead + _digits(rng, size - 1)

    def _new_customer(self, ips: list[str] | None = None, throwaway: bool = False) -> _Customer:
        rng, pools = self.rng, self.pools
        english = rng.random() < 0.12
        operator = _pick(rng, PHONE_OPS, OPERATOR_CUM)
        province = _pick(rng, self.province_names, self.province_cum)
        if english:
            name, user = rng.choice(pools.en_names), rng.choice(pools.en_users)
            domains, cum = self.en_mail
            has_phone, has_email = rng.random() < 0.25, True
        else:
            name, user = rng.choice(pools.zh_names), rng.choice(pools.zh_users)
            domains, cum = self.cn_mail
            has_phone = rng.random() < 0.88
            has_email = not has_phone or rng.random() < 0.6
        phone = self._phone(operator) if has_phone and not throwaway else None
        accounts: dict[str, str] = {}
        email = None
        if has_email or throwaway:
            domain = _pick(rng, domains, cum)
            if domain == "qq.com":
                accounts["qq"] = local = self._qq()
            elif throwaway:
                local = _code(rng, LOWER_DIGITS, rng.randint(7, 10))
            else:
                local = user + (rng.choice(("", "", str(rng.randint(1980, 2008)),
                                            _digits(rng, rng.randint(2, 4)))))
            email = f"{local}@{domain}"
        account = None
        if not throwaway and rng.random() < 0.45:
            account = rng.choice((user, user, f"wx_{_code(rng, LOWER_DIGITS, 8)}", phone or user))
        if ips is None:
            ips = [rng.choice(self.shared_ips) if rng.random() < 0.03
                   else self._ip(INTL_IP_FIRST if english else CN_IP_FIRST)]
            if rng.random() < 0.35:
                ips.append(self._ip(CN_IP_FIRST))
        customer = _Customer(Buyer(account, phone, email), name, english, ips, province,
                             operator if phone else None)
        customer.accounts = accounts
        return customer

    def _fraud_windows(self) -> dict[int, list[str]]:
        """A few hosting IPs, each busy for some days with many throw-away buyers."""
        rng, active = self.rng, dict[int, list[str]]()
        for _ in range(3 + min(7, self.n // 50_000)):
            ip, start = self._ip(HOSTING_IP_FIRST), rng.randrange(SPAN_DAYS - 1)
            for day in range(start, min(SPAN_DAYS, start + rng.randint(2, 7))):
                active.setdefault(day, []).append(ip)
        return active

    def _customer(self, ts: int) -> tuple[_Customer, str, bool]:
        rng = self.rng
        fraud_ips = self.fraud.get((ts - self.first_day) // DAY)
        if fraud_ips and rng.random() < 0.1:
            ip = rng.choice(fraud_ips)
            return self._new_customer([ip], throwaway=True), ip, True
        roll = rng.random()
        if roll < 0.22:
            customer = self.loyal[int(len(self.loyal) * rng.random() ** 1.6)]
        elif roll < 0.34 and self.recent:
            customer = rng.choice(self.recent)
        else:
            customer = self._new_customer()
            if len(self.recent) < 3000:
                self.recent.append(customer)
            else:
                self.recent[self.recent_at] = customer
                self.recent_at = (self.recent_at + 1) % 3000
        ips = customer.ips
        ip = ips[0] if len(ips) == 1 or rng.random() < 0.7 else rng.choice(ips)
        return customer, ip, False

    # -- what was bought ---------------------------------------------------------

    def _spec(self, fraud: bool) -> _Spec:
        if fraud:
            return _pick(self.rng, self.cashable, self.cashable_cum)
        return _pick(self.rng, self.specs, self.spec_cum)

    def _quantity(self, spec: _Spec, customer: _Customer, fraud: bool) -> int:
        rng = self.rng
        if spec.family.delivery != "card":
            return 1 if spec.family.category in ("phone_topup", "data_topup") or rng.random() < 0.97 else 2
        if customer.agent:
            return rng.choice((5, 10, 10, 20, 30, 50))
        if fraud:
            return rng.choice((1, 2, 3, 5, 10))
        return _pick(rng, (1, 2, 3, 5, 10), QUANTITY_CUM)

    def _amount(self, spec: _Spec, qty: int, customer: _Customer) -> tuple[int, int]:
        """(amount paid, discount) in cents; discount is measured from face value when known."""
        rng = self.rng
        gross = spec.price * qty
        reduction = gross // 100 if customer.vip else 0
        if qty >= 5:
            reduction += gross * 2 // 100
        if rng.random() < 0.06:
            coupon = rng.choice((50, 100) if spec.family.currency == "USD" else (100, 200, 500, 1000))
            if gross > coupon * 5:
                reduction += coupon
        amount = max(1, gross - reduction)
        discount = spec.face * qty - amount if spec.face is not None else gross - amount
        return amount, max(0, discount)

    def _recipient(self, spec: _Spec, customer: _Customer) -> tuple[str | None, str | None, str | None]:
        """(recipient account, region, operator); repeat buyers top up the same accounts."""
        family = spec.family
        kind = family.recipient
        if kind is None:
            return None, None, None
        if kind == "phone":
            return self._phone_recipient(family, customer)
        if kind == "email":
            return customer.buyer.email, None, None
        key = kind if kind in ("qq", "mihoyo", "handle", "douyin") else f"{kind}:{family.code}"
        account = customer.accounts.get(key)
        if account is None:
            account = customer.accounts[key] = self._account(kind)
        return account, None, None

    def _account(self, kind: str) -> str:
        rng = self.rng
        if kind == "qq":
            return self._qq()
        if kind == "mihoyo":
            return rng.choice("1111225") + _digits(rng, 8)
        if kind == "pubg":
            return "5" + _digits(rng, 9)
        if kind == "mlbb":
            return f"{rng.randint(10_000_000, 999_999_999)} ({rng.randint(1000, 9999)})"
        if kind == "handle":
            return "@" + rng.choice(self.pools.en_users)
        if kind == "douyin":
            return rng.choice((rng.choice(self.pools.zh_users), "dy" + _code(rng, LOWER_DIGITS, 9),
                               _digits(rng, 11)))
        return str(rng.randint(10_000_000, 9_999_999_999))

    def _phone_recipient(self, family: _Family, customer: _Customer
                         ) -> tuple[str, str | None, str | None]:
        rng, operator = self.rng, family.operator
        topup = family.category in ("phone_topup", "data_topup")
        phone = customer.buyer.phone
        if phone and (operator is None or customer.operator == operator) and rng.random() < 0.75:
            region = customer.province
        else:
            want = operator or customer.operator or "中国移动"
            key = f"phone:{want}"
            phone = customer.accounts.get(key)
            if phone is None:
                phone = customer.accounts[key] = self._phone(want)
            region = (customer.province if rng.random() < 0.6
                      else _pick(rng, self.province_names, self.province_cum))
            operator = want
        return (phone, region, operator) if topup else (phone, None, None)

    # -- payment -----------------------------------------------------------------

    def _channel(self, currency: str) -> str:
        if currency == "USD":
            return _pick(self.rng, USD_CHANNELS, USD_CHANNEL_CUM)
        return _pick(self.rng, CNY_CHANNELS, CNY_CHANNEL_CUM)

    def _transaction_id(self, channel: str, ts: int) -> str:
        rng, ymd = self.rng, self._ymd(ts)
        if channel == "alipay":
            return ymd + "22001" + _digits(rng, 15)
        if channel == "wechat":
            return "42000" + _digits(rng, 5) + ymd + _digits(rng, 10)
        if channel == "unionpay":
            second = (ts + LOCAL_OFFSET) % DAY
            hms = f"{second // 3600:02d}{second // 60 % 60:02d}{second % 60:02d}"
            return "52" + ymd[2:] + hms + _digits(rng, 7)
        if channel == "paypal":
            return _code(rng, UPPER, 17)
        return _code(rng, HEX_LOWER, 64)

    def _payer(self, channel: str, customer: _Customer) -> str:
        payer = customer.payers.get(channel)
        if payer is None:
            payer = customer.payers[channel] = self._new_payer(channel, customer)
        return payer

    def _new_payer(self, channel: str, customer: _Customer) -> str:
        rng, buyer = self.rng, customer.buyer
        if channel == "alipay":
            if buyer.phone:
                logon = f"{buyer.phone[:3]}****{buyer.phone[-4:]}"
            else:
                local, _, domain = (buyer.email or "user@alipay.com").partition("@")
                logon = f"{local[:3]}***@{domain}"
            return f"{customer.name} {logon}"
        if channel == "wechat":
            return "o" + _code(rng, OPENID, 27)
        if channel == "unionpay":
            return f"{rng.choice(('6222', '6217', '6228', '6214'))}****{_digits(rng, 4)} {customer.name}"
        if channel == "paypal":
            return f"{customer.name} <{buyer.email}>" if buyer.email else customer.name
        return "T" + _code(rng, BASE58, 33)

    def _pay(self, draft: _Draft) -> PaymentProof:
        rng, currency = self.rng, draft.spec.family.currency
        channel = draft.channel = self._channel(currency)
        paid = draft.add(8 + min(int(rng.expovariate(1 / 45)), 1200), "paid", "")
        txid = self._transaction_id(channel, paid)
        amount = _dec(draft.amount)
        detail = f"{channel} payment confirmed, trade_no {txid}, {_money_text(draft.amount, currency)}"
        proof = None
        if channel == "usdt":
            usdt = (amount / USDT_RATE[currency]).quantize(Decimal("0.01"))
            detail += f" = {usdt} USDT-TRC20"
            proof = f"https://tronscan.org/#/transaction/{txid}"
        draft.events[-1] = (paid, "paid", detail)
        return PaymentProof(channel, txid, self._payer(channel, draft.customer), amount,
                            _at(paid), proof)

    # -- suppliers -----------------------------------------------------------------

    def _supplier_call(self, draft: _Draft, outcome: str, supplier: str | None = None) -> str:
        """Log a supplier request and its raw answer; ``outcome`` is ok|cards|pending|error|timeout."""
        rng, family = self.rng, draft.spec.family
        supplier = draft.supplier = supplier or rng.choice(family.suppliers or CN_SUPPLIERS)
        english = supplier in INTL_SUPPLIERS
        request_id = ("req_" + _code(rng, HEX_LOWER, 24)) if english else \
            f"R{self._ymd(draft.t)}{_digits(rng, 10)}"
        account = draft.recipient or draft.customer.buyer.email or "-"
        draft.add(rng.randint(1, 4), "supplier_called",
                  f"{supplier} POST /api/v1/order request_id={request_id} "
                  f"sku={draft.spec.product.sku} qty={draft.qty} account={account}")
        if outcome == "timeout":
            draft.add(30, "supplier_answered", f"{supplier} HTTP 504 Gateway Timeout after 30000ms")
            return supplier
        their_no = ("G" if english else "S") + self._ymd(draft.t)[2:] + _digits(rng, 8)
        raw = self._answer(outcome, english, their_no, draft)
        millis = rng.randint(120, 2500) if outcome != "pending" else rng.randint(80, 600)
        draft.add(max(1, millis // 1000), "supplier_answered", f"{supplier} HTTP 200 in {millis}ms: {raw}")
        return supplier

    def _answer(self, outcome: str, english: bool, their_no: str, draft: _Draft) -> str:
        rng = self.rng
        if outcome in ("ok", "cards"):
            if english:
                return f'{{"status":"success","message":"OK","data":{{"order_id":"{their_no}"}}}}'
            return f'{{"code":0,"msg":"success","order":"{their_no}"}}'
        if outcome == "pending":
            if english:
                return f'{{"status":"pending","message":"Processing","data":{{"order_id":"{their_no}"}}}}'
            return f'{{"code":2001,"msg":"订单处理中","order":"{their_no}"}}'
        if english:
            name, message = rng.choice(EN_ERRORS)
            return f'{{"status":"error","code":"{name}","message":"{message}"}}'
        category = draft.spec.family.category
        pool = CN_ERRORS["phone" if category in ("phone_topup", "data_topup") else
                         "game" if category == "game_topup" else "any"]
        code, message = rng.choice(pool)
        return f'{{"code":{code},"msg":"{message}"}}'

    # -- stories: one per final status -------------------------------------------

    def _deliver(self, draft: _Draft) -> None:
        """The happy path after payment: keys from stock or a supplier, or a direct top-up."""
        rng, spec = self.rng, draft.spec
        family = spec.family
        if family.delivery == "card":
            if family.suppliers and rng.random() < 0.35:
                supplier = self._supplier_call(draft, "cards")
                note = f"{draft.qty} card key(s) received from {supplier}"
            else:
                batch = f"B{self._ymd(draft.t)[2:6]}{rng.randint(1, 40):02d}"
                note = f"{draft.qty} card key(s) allocated from stock batch {batch}"
            draft.add(rng.randint(0, 2), "key_generated", note)
            at = draft.add(rng.randint(0, 3), "delivered",
                           f"card keys sent to {draft.customer.buyer.email or 'the order page'}")
            moment = _at(at)
            draft.keys.extend(_new_key(rng, family.card, "delivered", moment) for _ in range(draft.qty))
            return
        if rng.random() < 0.1:
            first = self._supplier_call(draft, rng.choice(("error", "timeout")))
            second = rng.choice([s for s in family.suppliers if s != first] or [first])
            draft.add(rng.randint(20, 300), "retry", f"retry 2/3 via {second}")
            self._supplier_call(draft, "ok", second)
        else:
            self._supplier_call(draft, "ok")
        slow = family.category in ("phone_topup", "data_topup")
        gap = rng.randint(5, 600) if slow and rng.random() < 0.3 else rng.randint(1, 20)
        where = f" ({draft.spec.product.name})"
        draft.add(gap, "delivered", f"recharged {draft.recipient}{where}, supplier confirmed")

    def _fail(self, draft: _Draft) -> None:
        rng, family = self.rng, draft.spec.family
        if family.delivery == "card" and (not family.suppliers or rng.random() < 0.6):
            draft.add(rng.randint(1, 3), "failed",
                      f"no unsold card key left for {draft.spec.product.sku}, auto delivery failed")
            return
        attempts = rng.randint(1, 3)
        for attempt in range(1, attempts + 1):
            self._supplier_call(draft, rng.choice(("error", "error", "error", "timeout")))
            if attempt < attempts:
                draft.add(rng.randint(30, 600), "retry", f"retry {attempt + 1}/3")
        draft.add(rng.randint(1, 5), "failed", f"delivery failed after {attempts} attempt(s)")

    def _process(self, draft: _Draft) -> None:
        rng, family = self.rng, draft.spec.family
        if family.delivery == "card":
            draft.add(rng.randint(1, 5), "manual_review", rng.choice((
                "awaiting manual delivery: stock empty, restock requested",
                "risk review: large order from a new buyer",
                "人工发货：等待客服处理")))
            return
        if rng.random() < 0.3:
            self._supplier_call(draft, "error")
            draft.add(rng.randint(30, 300), "retry", "retry 2/3")
        self._supplier_call(draft, rng.choice(("pending", "pending", "timeout")))

    def _refund(self, draft: _Draft, cents: int, reason: str) -> None:
        rng = self.rng
        draft.refunded = cents
        draft.add(rng.randint(60, 2 * DAY if draft.t < self.now - 3 * DAY else 3600), "refunded",
                  f"refunded {_money_text(cents, draft.spec.family.currency)} to {draft.channel}, "
                  f"refund_no RF{self._ymd(draft.t)}{_digits(rng, 8)}: {reason}")

    def _after_sales(self, draft: _Draft) -> str:
        kind = "card" if draft.spec.family.delivery == "card" else "direct"
        reason = self.rng.choice(AFTER_SALES_REASONS[kind])
        draft.add(self.rng.randint(600, DAY), "after_sales", f"buyer opened after-sales: {reason}")
        return reason

    def _tell(self, draft: _Draft, status: str) -> PaymentProof | None:
        """Write the order's log for ``status`` and settle the final status."""
        rng = self.rng
        draft.status = status
        if status == "pending_payment":
            return None
        if status == "expired":
            draft.add(PAY_WINDOW, "expired", "closed: not paid within 30 minutes")
            return None
        if status == "cancelled":
            draft.add(rng.randint(30, 1500), "cancelled", rng.choice((
                "cancelled by buyer before payment", "买家取消订单", "cancelled by buyer: wrong product")))
            return None
        payment = self._pay(draft)
        getattr(self, f"_story_{status}")(draft)
        return payment

    def _story_paid(self, draft: _Draft) -> None:
        """Paid and never picked up: the dispatcher missed it."""

    def _story_processing(self, draft: _Draft) -> None:
        self._process(draft)

    def _story_failed(self, draft: _Draft) -> None:
        self._fail(draft)

    def _story_success(self, draft: _Draft) -> None:
        rng = self.rng
        self._deliver(draft)
        if draft.keys and rng.random() < 0.025:
            self._reissue(draft)
        if draft.t + AUTO_COMPLETE <= self.now:
            draft.add(AUTO_COMPLETE, "completed", "auto-completed: no complaint within 72 hours")
            draft.status = "completed"
        else:
            draft.status = "delivered"

    def _reissue(self, draft: _Draft) -> None:
        rng = self.rng
        self._after_sales(draft)
        index = rng.randrange(len(draft.keys))
        old = draft.keys[index]
        at = draft.add(rng.randint(300, 7200), "reissued",
                       f"card key {old.serial} voided, replacement issued")
        new = _new_key(rng, draft.spec.family.card, "delivered", _at(at))
        draft.keys[index] = CardKey(old.serial, old.secret, "reissued", old.delivered_at)
        draft.keys.append(new)
        draft.add(rng.randint(0, 3), "delivered", f"replacement key {new.serial} sent")

    def _story_after_sales(self, draft: _Draft) -> None:
        self._deliver(draft)
        self._after_sales(draft)

    def _story_refunded(self, draft: _Draft) -> None:
        rng, roll = self.rng, self.rng.random()
        if roll < 0.55:
            self._fail(draft)
            direct = draft.spec.family.delivery == "direct"
            reason = "供应商充值失败，原路退回" if direct else "缺货，原路退回"
        elif roll < 0.8:
            self._deliver(draft)
            reason = self._after_sales(draft)
            draft.keys = [CardKey(k.serial, k.secret, "voided", k.delivered_at) for k in draft.keys]
        else:
            reason = rng.choice(REFUND_REASONS[:3])
        self._refund(draft, draft.amount, reason)

    def _story_partially_refunded(self, draft: _Draft) -> None:
        rng, amount = self.rng, draft.amount
        if amount < 2:
            draft.status = "refunded"
            return self._story_refunded(draft)
        if draft.spec.family.delivery == "card" and draft.qty > 1 and rng.random() < 0.6:
            wanted = draft.qty
            draft.qty = rng.randint(1, wanted - 1)
            self._deliver(draft)
            draft.events[-2] = (draft.events[-2][0], "key_generated",
                                f"only {draft.qty} of {wanted} card keys in stock, delivered partially")
            short = wanted - draft.qty
            draft.qty = wanted
            self._refund(draft, min(amount - 1, amount * short // wanted), f"{short} key(s) out of stock")
            return
        self._deliver(draft)
        share = rng.choice((5, 10, 20, 30))
        self._refund(draft, max(1, min(amount - 1, amount * share // 100)),
                     rng.choice(("delay compensation", "价格调整，退还差价", "补偿：到账延迟")))

    # -- the order ---------------------------------------------------------------------

    def _status(self, age: int) -> str:
        for limit, (names, cum) in _AGE_TABLES:
            if age < limit:
                return _pick(self.rng, names, cum)
        raise AssertionError("unreachable")

    def _order(self, seq: int, ts: int, forced: str | None) -> Order:
        rng, now = self.rng, self.now
        customer, ip, fraud = self._customer(ts)
        spec = self._spec(fraud)
        status = forced or self._status(now - ts)
        qty = self._quantity(spec, customer, fraud)
        amount, discount = self._amount(spec, qty, customer)
        recipient, region, operator = self._recipient(spec, customer)
        draft = _Draft(spec, customer, qty, amount, recipient, ip, ts, now)
        draft.events.append((ts, "created", f"order placed from {ip}: {qty} × {spec.product.sku}, "
                                            f"{_money_text(amount, spec.family.currency)}"))
        payment = self._tell(draft, status)
        tags = self._tags(customer, fraud)
        customer.orders += 1
        events = tuple(OrderEvent(_at(t), kind, detail) for t, kind, detail in draft.events)
        return Order(
            order_no=f"{ORDER_PREFIX}{self._ymd(ts)}{self.scramble(seq):010d}",
            status=draft.status, created_at=events[0].at, product=spec.product, quantity=qty,
            amount_paid=_dec(amount), currency=spec.family.currency,
            face_value=spec.product.face_value, discount=_dec(discount),
            refunded_amount=_dec(draft.refunded),
            paid_at=payment.paid_at if payment else None, updated_at=events[-1].at,
            buyer=customer.buyer, recipient_account=recipient, buyer_ip=ip, region=region,
            operator=operator, supplier=draft.supplier, payment=payment,
            card_keys=tuple(draft.keys), events=events, remark=self._remark(draft),
            tags=tags,
            search_password=_code(rng, LOWER_DIGITS, 6) if rng.random() < 0.25 else None,
        )

    def _tags(self, customer: _Customer, fraud: bool) -> tuple[str, ...]:
        rng, tags = self.rng, []
        if customer.orders and rng.random() < 0.4:
            tags.append("repeat buyer")
        if customer.vip and rng.random() < 0.85:
            tags.append("vip")
        if customer.agent and rng.random() < 0.9:
            tags.append("agent purchase")
        if (fraud and rng.random() < 0.7) or rng.random() < 0.002:
            tags.append("suspicious")
        return tuple(tags)

    def _remark(self, draft: _Draft) -> str | None:
        rng = self.rng
        if draft.status == "after_sales" and rng.random() < 0.4:
            return rng.choice(("客服备注：已联系买家，等待截图", "客服备注：已提交供应商核实",
                               "agent note: asked buyer for a screenshot"))
        if rng.random() >= 0.05:
            return None
        category = draft.spec.family.category
        key = "card" if draft.spec.family.delivery == "card" else category
        text = rng.choice(BUYER_REMARKS.get(key, BUYER_REMARKS["any"]))
        return text.format(name=draft.customer.name, phone=draft.recipient or "")

    def orders(self) -> Iterator[Order]:
        for seq, (ts, forced) in enumerate(self._times()):
            yield self._order(seq, ts, forced)


def _at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def generate_orders(n: int, seed: int = 42, now: datetime | None = None) -> Iterator[Order]:
    """Stream ``n`` demo orders created over the 180 days before ``now``, oldest first.

    Deterministic for a given ``(n, seed, now)``; ``now`` defaults to the clock.  A naive
    ``now`` is taken as UTC.  Memory stays flat: only buyer pools are kept, not orders.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    return _Generator(n, seed, _now_ts(now)).orders()


# --- the watcher's demo scenario --------------------------------------------------------

OUTAGE_SUPPLIER = "快鸟充值"


def _watch_order(template: Order, rng: random.Random, order_no: str, start: int,
                 steps: tuple[tuple[int, str, str], ...], supplier: str,
                 operator: str | None = None, region: str | None = None) -> Order:
    """``template`` told again from ``start`` through ``steps`` (gap seconds, kind, detail);
    the last step's kind is the status."""
    events, t = [OrderEvent(_at(start), "created", "order placed")], start
    for gap, kind, detail in steps:
        t += gap
        events.append(OrderEvent(_at(t), kind, detail))
    status = events[-1].kind if events[-1].kind != "supplier_called" else "processing"
    delivered = status in ("delivered", "completed")
    payment = replace(template.payment, paid_at=events[1].at) if template.payment else None
    return replace(
        template, order_no=order_no, status=status, created_at=events[0].at,
        paid_at=events[1].at, updated_at=events[-1].at, events=tuple(events),
        supplier=supplier, operator=operator or template.operator,
        region=region or template.region, payment=payment, refunded_amount=Decimal("0.00"),
        card_keys=template.card_keys if delivered else (), tags=(), remark=None)


def watch_scenario(seed: int = 42, now: datetime | None = None) -> Iterator[Order]:
    """Orders that give the order watcher something to find on a demo's first visit: a
    few stuck orders, and one supplier (快鸟充值) whose phone top-ups were fine for six
    hours and stopped arriving half an hour ago (most stuck processing, some failed)."""
    end = _now_ts(now)
    rng = random.Random(f"watch:{seed}")
    templates: dict[str, list[Order]] = {}
    for order in generate_orders(600, seed=seed + 1, now=_at(end)):
        if order.payment is not None:
            templates.setdefault(order.product.category, []).append(order)
    top_ups, serial = templates["phone_topup"], iter(range(10**7))

    def number(ts: int) -> str:
        return f"{ORDER_PREFIX}{datetime.fromtimestamp(ts + LOCAL_OFFSET, UTC):%Y%m%d}" \
               f"97{next(serial):08d}"

    operators = ("中国移动", "中国联通", "中国电信")
    regions = tuple(p for p, _ in PROVINCES[:8])
    delivered = (8, "paid", ""), (2, "supplier_called", f"{OUTAGE_SUPPLIER} order accepted"), \
        (90, "delivered", "recharged, supplier confirmed")
    # six hours of a normal day: one top-up every ~6 minutes, one in forty failing
    for t in range(end - 6 * 3600 - 40 * 60, end - 40 * 60, 360):
        start = t + rng.randint(0, 300)
        steps: tuple[tuple[int, str, str], ...] = delivered if rng.random() > 0.025 else \
            delivered[:2] + ((300, "failed", "supplier answered: recharge failed"),)
        yield _watch_order(rng.choice(top_ups), rng, number(start), start, steps,
                           OUTAGE_SUPPLIER, rng.choice(operators), rng.choice(regions))
    # the outage: from 28 minutes ago, top-ups hang in processing or fail
    for index in range(22):
        start = end - 28 * 60 + index * 40
        outcome = ((), ((600, "failed", "supplier timeout after 600 s"),),
                   ((120, "delivered", "recharged late, supplier confirmed"),))[
            0 if index % 5 < 3 else 1 if index % 5 == 3 else 2]
        yield _watch_order(rng.choice(top_ups), rng, number(start), start,
                           delivered[:2] + outcome, OUTAGE_SUPPLIER,
                           operators[index % 3], regions[index % len(regions)])
    # and a few stuck on their own: card keys paid but not delivered, a game top-up waiting
    for category, minutes, steps in (
            ("game_card", 9, ((6, "paid", ""),)),
            ("gift_card", 25, ((4, "paid", ""),)),
            ("game_topup", 40, ((5, "paid", ""), (3, "supplier_called", "order accepted")))):
        pool = templates.get(category) or top_ups
        template = rng.choice(pool)
        start = end - minutes * 60
        yield _watch_order(template, rng, number(start), start, steps,
                           template.supplier or "星河直充")
