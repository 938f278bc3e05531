"""What customers say, built from a set of demo orders: (case, query, the order they mean).

Each case picks a target order whose fragments are unambiguous *in that data*
(a phone tail shared by two buyers could not single one out, whatever the
search does), then phrases the fragments the way a customer would, in Chinese
or in English.  Used by the search API tests and the retrieval plan tests.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from adapters.base import Order

Case = tuple[str, str, str]


def local_day(order: Order, tz: tzinfo):
    return order.created_at.astimezone(tz).date()


def amount_text(value: Decimal) -> str:
    """How people say an amount: 98.50 -> "98.5", 100.00 -> "100"."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text


def _first(orders: Iterable[Order], test: Callable[[Order], bool]) -> Order:
    for order in orders:
        if test(order):
            return order
    raise LookupError("no order in the sample fits this case; change the sample's size or seed")


def typo(order_no: str) -> str:
    """One digit near the end read wrong (7 for 1, 8 for 3...)."""
    i = len(order_no) - 4
    wrong = str((int(order_no[i]) + 5) % 10)
    return order_no[:i] + wrong + order_no[i + 1:]


def swapped(order_no: str) -> str:
    """Two neighbouring digits swapped, the commonest slip when copying numbers."""
    for i in range(len(order_no) - 3, 3, -1):
        if order_no[i] != order_no[i + 1] and order_no[i].isdigit() and order_no[i + 1].isdigit():
            return order_no[:i] + order_no[i + 1] + order_no[i] + order_no[i + 2:]
    raise LookupError(order_no)


def misspelt(word: str) -> str:
    """Swap two letters in the middle of a word: "Steam" -> "Stema"."""
    i = max(1, len(word) // 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def build_cases(orders: list[Order], now: datetime, tz: tzinfo) -> list[Case]:
    """Every fragment form of the issue, each in Chinese and English where people use both."""
    today = now.astimezone(tz).date()
    yesterday = today - timedelta(days=1)
    tails = Counter(o.buyer.phone[-4:] for o in orders if o.buyer.phone)
    emails = Counter((o.buyer.email or "").lower() for o in orders)
    recipients = Counter(o.recipient_account for o in orders if o.recipient_account)
    by_day_amount = Counter((local_day(o, tz), o.amount_paid) for o in orders)
    by_day_sku = Counter((local_day(o, tz), o.product.sku) for o in orders)
    serial_text = " ".join(k.serial for o in orders for k in o.card_keys)
    cases: list[Case] = []

    o = _first(orders, lambda o: o.payment is not None)
    no = o.order_no
    cases += [
        ("order number", no, no),
        ("order number, lower case with spaces and dashes",
         f"{no[:2].lower()} {no[2:10]}-{no[10:14]} {no[14:]}", no),
        ("order number with one wrong digit", f"订单号 {typo(no)} 没收到卡密", no),
        ("order number with two digits swapped", f"order {swapped(no)} never arrived", no),
        ("the end of an order number", f"单号后面是 {no[-10:]}", no),
    ]

    o = _first(orders, lambda o: o.buyer.phone and tails[o.buyer.phone[-4:]] == 1
               and local_day(o, tz) == yesterday)
    tail, paid = o.buyer.phone[-4:], amount_text(o.amount_paid)
    cases += [
        ("phone tail + amount + 昨天", f"手机尾号{tail}，昨天付了{paid}元，卡密没收到", o.order_no),
        ("phone tail + amount + yesterday", f"phone ending {tail}, paid {paid} yesterday, "
                                            "haven't received it", o.order_no),
    ]

    o = _first(orders, lambda o: o.buyer.email and "qq.com" not in o.buyer.email
               and emails[o.buyer.email.lower()] == 1
               and sum(e.startswith(o.buyer.email.split("@")[0][:6].lower()) for e in emails) == 1
               and len(o.buyer.email.split("@")[0]) >= 7)
    local = o.buyer.email.split("@")[0]
    cases += [
        ("email fragment (zh)", f"邮箱是 {local[:7]} 开头的", o.order_no),
        ("email head (en)", f"my email is {local}@ something", o.order_no),
    ]

    o = _first(orders, lambda o: o.recipient_account and o.recipient_account.isdigit()
               and len(o.recipient_account) in (8, 9, 10) and recipients[o.recipient_account] == 1)
    cases += [
        ("QQ / recipient account (zh)", f"给QQ {o.recipient_account} 充的点券没到账", o.order_no),
        ("recipient account (en)", f"topped up account {o.recipient_account} but nothing",
         o.order_no),
    ]

    o = _first(orders, lambda o: o.card_keys and serial_text.count(o.card_keys[0].serial[2:12]) == 1
               and len(o.card_keys[0].serial) >= 12)
    serial = o.card_keys[0].serial
    cases += [
        ("card serial fragment (zh)", f"卡号里有 {serial[2:12]}", o.order_no),
        ("whole card secret (en)", f"the code {o.card_keys[0].secret} says already redeemed",
         o.order_no),
    ]

    o = _first(orders, lambda o: o.payment and o.payment.transaction_id
               and o.payment.transaction_id.isdigit())
    txn = o.payment.transaction_id
    cases += [
        ("transaction id", f"支付宝交易号 {txn}", o.order_no),
        ("end of a transaction id", f"trade no ends {txn[-14:]}", o.order_no),
    ]

    o = _first(orders, lambda o: re.match(r"[A-Za-z]{5,}", o.product.name)
               and by_day_sku[(local_day(o, tz), o.product.sku)] == 1
               and (today - local_day(o, tz)).days < 60)
    word = re.match(r"[A-Za-z]{5,}", o.product.name).group()
    day = local_day(o, tz)
    cases += [
        ("misspelt product + date (en)",
         f"{misspelt(word)} {o.product.name.split()[-1]} on {day:%b} {day.day}", o.order_no),
        ("misspelt product + date (zh)", f"{day.month}月{day.day}日买的 {misspelt(word)}",
         o.order_no),
    ]

    def cjk_name(order: Order) -> str | None:
        found = re.search(r"[\u4e00-\u9fff]{4,}", order.product.name)
        return found.group() if found else None

    by_day_name = Counter((local_day(o, tz), cjk_name(o)) for o in orders)
    o = _first(orders, lambda o: cjk_name(o) and by_day_name[(local_day(o, tz), cjk_name(o))] == 1
               and (today - local_day(o, tz)).days < 60)
    name = cjk_name(o)
    day = local_day(o, tz)
    cases.append(("Chinese product text with a missing character + date",
                  f"{day.month}月{day.day}号 买的{name[:2]}{name[3:]}", o.order_no))

    o = _first(orders, lambda o: local_day(o, tz) == yesterday
               and by_day_amount[(yesterday, o.amount_paid)] == 1)
    paid = amount_text(o.amount_paid)
    cases += [
        ("amount only + yesterday (order-number recovery)", f"{paid} yesterday", o.order_no),
        ("amount only + 昨天", f"昨天 {paid}元", o.order_no),
    ]
    return cases
