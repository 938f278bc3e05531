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


# --- the kinds issue 13 found missing: one slip, key fragments, several weak fragments ---

EMAIL_DOMAIN_SLIPS = {"qq.com": "qq.con", "163.com": "163.cmo", "126.com": "162.com",
                      "gmail.com": "gmial.com", "outlook.com": "outlok.com",
                      "hotmail.com": "hotmial.com", "sina.com": "sian.com",
                      "foxmail.com": "foxmall.com", "yahoo.com": "yaho.com"}
_ALNUM = re.compile(r"[^0-9A-Za-z]")


def letter_swap(text: str) -> str:
    """The first two different neighbouring letters swapped ("zhangsan" -> "zhagnsan")."""
    for i in range(len(text) // 2, len(text) - 1):
        if text[i] != text[i + 1] and text[i].isalnum() and text[i + 1].isalnum():
            return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    raise LookupError(text)


def one_wrong(text: str) -> str:
    """One character in the middle read wrong: a digit for a digit, a letter for a letter."""
    i = len(text) // 2
    while not text[i].isalnum():
        i += 1
    ch = text[i]
    wrong = str((int(ch) + 3) % 10) if ch.isdigit() else chr((ord(ch.upper()) - 62) % 26 + 65)
    return text[:i] + (wrong if ch.isupper() or ch.isdigit() else wrong.lower()) + text[i + 1:]


def secret_piece(secret: str, chars: int) -> str:
    """``chars`` letters/digits from the middle of a printed secret, separators as printed."""
    positions = [i for i, c in enumerate(secret) if c.isalnum()]
    start = (len(positions) - chars) // 2
    return secret[positions[start]:positions[start + chars - 1] + 1]


def _unique_by(orders: list[Order], key: Callable[[Order], object]) -> Callable[[Order], bool]:
    counts = Counter(key(o) for o in orders)
    return lambda o: counts[key(o)] == 1


def build_slip_cases(orders: list[Order], now: datetime, tz: tzinfo) -> list[Case]:
    """Emails with one slip, card-key fragments, and piles of weak fragments, zh and en.

    Each target is singled out by its fragments *together*; no single weak fragment
    (a tail, a month, a category, a day) is unique in the data.
    """
    today = now.astimezone(tz).date()
    cases: list[Case] = []

    # emails: a slip in the domain, a swap or a wrong character in the local part
    local_of = lambda o: (o.buyer.email or "").split("@")[0].lower()  # noqa: E731
    domain_of = lambda o: (o.buyer.email or "").split("@")[-1].lower()  # noqa: E731
    locals_ = Counter(local_of(o) for o in orders if o.buyer.email)
    buyers_of_local = Counter(local_of(o) for o in {o.buyer.email.lower(): o for o in orders
                                                      if o.buyer.email}.values())

    def email_ok(o: Order, digits: bool) -> bool:
        return bool(o.buyer.email) and locals_[local_of(o)] == 1 \
            and buyers_of_local[local_of(o)] == 1 and len(local_of(o)) >= 7 \
            and local_of(o).isdigit() == digits and domain_of(o) in EMAIL_DOMAIN_SLIPS

    picked: list[Order] = []
    for digits in (True, False, True, False, False):
        o = _first(orders, lambda o, digits=digits: email_ok(o, digits) and o not in picked)
        picked.append(o)
    zh1, en1, zh2, en2, en3 = picked
    slip = lambda o: f"{local_of(o)}@{EMAIL_DOMAIN_SLIPS[domain_of(o)]}"  # noqa: E731
    cases += [
        ("email, slip in the domain (zh)", f"邮箱 {slip(zh1)} 没收到卡密", zh1.order_no),
        ("email, slip in the domain (en)", f"my email is {slip(en1)}, code never arrived",
         en1.order_no),
        ("email, wrong digit in the local part (zh)",
         f"我的邮箱是{one_wrong(local_of(zh2))}@{domain_of(zh2)}", zh2.order_no),
        ("email, swapped letters in the local part (en)",
         f"{letter_swap(local_of(en2))}@{domain_of(en2)}", en2.order_no),
        ("email, wrong letter in the local part (en)",
         f"email {one_wrong(local_of(en3))}@{domain_of(en3)} please check", en3.order_no),
    ]

    # card-key secrets: a piece from the middle, as printed, joined, spaced, with a slip
    pieces = {}
    for o in orders:
        for k in o.card_keys:
            pieces.setdefault(_ALNUM.sub("", k.secret).upper(), o)
    all_secrets = " ".join(pieces)

    def secret_ok(o: Order, dashed: bool, chars: int) -> bool:
        if len(o.card_keys) != 1:
            return False
        secret = o.card_keys[0].secret
        piece = _ALNUM.sub("", secret_piece(secret, chars)).upper()
        return ("-" in secret) == dashed and len(_ALNUM.sub("", secret)) >= chars + 4 \
            and all_secrets.count(piece) == 1 and not piece.isdigit() or (
                not dashed and piece.isdigit() and len(piece) >= 9
                and all_secrets.count(piece) == 1)

    picked = []
    for dashed, chars in ((True, 8), (True, 9), (False, 10), (True, 10), (True, 10), (False, 9)):
        picked.append(_first(orders, lambda o, dashed=dashed, chars=chars:
                             secret_ok(o, dashed, chars) and o not in picked))
    a, b, c, d, e, f = picked
    sec = lambda o, n: secret_piece(o.card_keys[0].secret, n)  # noqa: E731
    cases += [
        ("secret piece as printed (zh)", f"卡密里有 {sec(a, 8)} 显示已被使用", a.order_no),
        ("secret piece without the dashes (en)",
         f"the code with {_ALNUM.sub('', sec(b, 9))} does not work", b.order_no),
        ("secret piece from the middle (zh)", f"卡密 {sec(c, 10)} 兑换不了", c.order_no),
        ("secret piece with spaces for dashes (en)",
         f"key {sec(d, 10).replace('-', ' ')} already redeemed", d.order_no),
        ("secret piece with one wrong character (zh)",
         f"卡密好像是{_ALNUM.sub('', one_wrong(sec(e, 10))).lower()}", e.order_no),
        ("secret piece, digits (en)", f"card pin {sec(f, 9)} invalid", f.order_no),
    ]

    # ISO date + misspelt product + amount (the amount as a bare number or in yuan)
    def latin_word(o: Order) -> str | None:
        found = re.match(r"([A-Za-z]{5,})(?: ([A-Za-z]{4,}))?", o.product.name)
        return found.group() if found else None

    def cjk_word(o: Order) -> str | None:
        found = re.match(r"[\u4e00-\u9fff]{4,}", o.product.name)
        return found.group() if found else None

    day_of = lambda o: local_day(o, tz)  # noqa: E731
    for name_of, lang in ((latin_word, "en"), (cjk_word, "zh")):
        fits = Counter((day_of(o), name_of(o), o.amount_paid) for o in orders if name_of(o))
        per_day = Counter((day_of(o), name_of(o)) for o in orders if name_of(o))
        chosen: list[Order] = []
        for _ in range(2):
            o = _first(orders, lambda o, name_of=name_of, chosen=chosen, fits=fits,
                       per_day=per_day: name_of(o) and o not in chosen
                       and fits[(day_of(o), name_of(o), o.amount_paid)] == 1
                       and per_day[(day_of(o), name_of(o))] >= 2
                       and o.amount_paid == o.amount_paid.to_integral_value()
                       and (today - day_of(o)).days < 90)
            chosen.append(o)
        for i, o in enumerate(chosen):
            name, paid = name_of(o), amount_text(o.amount_paid)
            if lang == "en":
                text = f"{day_of(o).isoformat()} {misspelt(name.lower())} {paid}" if i == 0 else \
                    f"bought {misspelt(name)} on {day_of(o).isoformat()} for {paid}"
            else:
                wrong = name[:2] + name[3:]  # a character left out
                text = f"{day_of(o).isoformat()} {wrong} {paid}元" if i == 0 else \
                    f"{day_of(o).isoformat()}买的{wrong}，{paid}块"
            cases.append((f"ISO date + misspelt product + amount ({lang} {i + 1})", text,
                          o.order_no))

    # last month + category word + phone tail
    first = today.replace(day=1)
    last_month = (first - timedelta(days=1)).replace(day=1)
    words = {"video_membership": ("会员", "membership"), "phone_topup": ("话费", "phone credit"),
             "data_topup": ("流量", "mobile data")}
    in_last_month = lambda o: last_month <= day_of(o) < first  # noqa: E731
    tail_of = lambda o: o.buyer.phone[-4:] if o.buyer.phone else None  # noqa: E731
    tails = Counter(tail_of(o) for o in orders if tail_of(o))
    fits = Counter((tail_of(o), o.product.category) for o in orders
                   if tail_of(o) and in_last_month(o))
    chosen = []
    for category, lang in (("video_membership", "zh"), ("video_membership", "en"),
                           ("phone_topup", "zh"), ("data_topup", "en")):
        o = _first(orders, lambda o, category=category: o.product.category == category
                   and tail_of(o)
                   and in_last_month(o) and o not in chosen
                   and fits[(tail_of(o), category)] == 1 and tails[tail_of(o)] >= 3
                   and not (o.recipient_account or "").endswith(tail_of(o)))
        chosen.append(o)
        zh, en = words[category]
        text = f"上个月 {zh} 尾号{tail_of(o)}" if lang == "zh" else \
            f"{en} last month, phone ending {tail_of(o)}"
        cases.append((f"last month + category + phone tail ({lang}, {category})", text,
                      o.order_no))
    return cases
