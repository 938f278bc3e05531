"""The order log's detail lines in the agent's language.

Stores write their event details in English ("alipay payment confirmed, trade_no …"); an
agent reading the console in 简体中文 should not have to read them in English.  The lines
the reference store and its demo generator write follow a few fixed shapes, so each shape
is a pattern here with its Chinese wording; the values in it (IPs, SKUs, amounts, serials)
are kept as they are.  A line that fits no shape is the shop's own free text and is shown
untouched, and so are the raw supplier logs (request lines, HTTP answers), which are
evidence to quote to the supplier, not prose.

The same holds for the short reasons some lines end with: the ones the shop's systems
write ("delay compensation") are worded in Chinese; what a buyer typed stays as typed.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from console.orders.explain import EN, normalise_lang

RAW_LOG_KINDS: frozenset[str] = frozenset({"supplier_called", "supplier_answered"})

CHANNELS_ZH: dict[str, str] = {
    "alipay": "支付宝", "wechat": "微信支付", "unionpay": "银联", "paypal": "PayPal",
    "usdt": "USDT", "manual": "人工",
}

CHANNELS_EN: dict[str, str] = {
    "alipay": "Alipay", "wechat": "WeChat Pay", "unionpay": "UnionPay", "paypal": "PayPal",
    "usdt": "USDT", "manual": "manual",
}

REASONS_ZH: dict[str, str] = {
    "delay compensation": "到账延迟补偿",
    "Buyer changed mind before delivery": "买家发货前改变主意",
    "Code already redeemed": "卡密已被兑换",
    "Top-up not received": "充值未到账",
    "cancelled by buyer before payment": "买家在付款前取消",
    "cancelled by buyer: wrong product": "买家取消：拍错商品",
    "awaiting manual delivery: stock empty, restock requested": "等待人工发货：库存为空，已申请补货",
    "risk review: large order from a new buyer": "风控审核：新买家的大额订单",
    "remark changed": "备注已修改",
    "cancelled": "已取消",
    "closed: not paid within 30 minutes": "已关闭：30分钟内未付款",
    "auto-completed: no complaint within 72 hours": "自动完成：72小时内无投诉",
}

_OUT_OF_STOCK_REASON = re.compile(r"^(?P<n>\d+) key\(s\) out of stock$")


def reason_zh(reason: str) -> str:
    """A reason the shop's systems word in English, in Chinese; a buyer's own words as typed."""
    text = reason.strip()
    if text in REASONS_ZH:
        return REASONS_ZH[text]
    stock = _OUT_OF_STOCK_REASON.match(text)
    if stock:
        return f"{stock['n']}张卡密缺货"
    return reason


def _channel(name: str) -> str:
    return CHANNELS_ZH.get(name.lower(), name)


def channel_label(name: str | None, lang: str) -> str:
    """A payment channel's name as people say it ("WeChat Pay" / "微信支付"), not its code."""
    if not name:
        return ""
    names = CHANNELS_EN if normalise_lang(lang) == EN else CHANNELS_ZH
    return names.get(name.lower(), name)


@dataclass(frozen=True)
class Shape:
    """One fixed shape of detail line and how it reads in Chinese."""

    pattern: re.Pattern[str]
    zh: Callable[[re.Match[str]], str]


def _shape(pattern: str, zh: Callable[[re.Match[str]], str]) -> Shape:
    return Shape(re.compile(pattern, re.DOTALL), zh)


SHAPES: tuple[Shape, ...] = (
    _shape(r"^order placed from (?P<ip>\S+): (?P<qty>\d+) × (?P<sku>\S+), (?P<money>.+)$",
           lambda m: f"从 {m['ip']} 下单：{m['qty']} × {m['sku']}，{m['money']}"),
    _shape(r"^(?P<channel>\w+) payment confirmed, trade_no (?P<txid>\S+), (?P<money>.+)$",
           lambda m: f"{_channel(m['channel'])}付款已确认，交易号 {m['txid']}，{m['money']}"),
    _shape(r"^(?P<n>\d+) card key\(s\) received from (?P<supplier>.+)$",
           lambda m: f"已从{m['supplier']}收到{m['n']}张卡密"),
    _shape(r"^(?P<n>\d+) card key\(s\) allocated from stock batch (?P<batch>\S+)$",
           lambda m: f"已从库存批次 {m['batch']} 分配{m['n']}张卡密"),
    _shape(r"^card keys sent to the order page$", lambda m: "卡密已发送至订单页面"),
    _shape(r"^card keys sent to (?P<to>.+)$", lambda m: f"卡密已发送至 {m['to']}"),
    _shape(r"^retry (?P<n>\d+)/(?P<of>\d+) via (?P<supplier>.+)$",
           lambda m: f"第{m['n']}/{m['of']}次重试，改用{m['supplier']}"),
    _shape(r"^retry (?P<n>\d+)/(?P<of>\d+)$", lambda m: f"第{m['n']}/{m['of']}次重试"),
    _shape(r"^recharged (?P<to>\S+) \((?P<product>.+)\), supplier confirmed$",
           lambda m: f"已为 {m['to']} 充值（{m['product']}），供货商已确认"),
    _shape(r"^no unsold card key left for (?P<sku>\S+), auto delivery failed$",
           lambda m: f"{m['sku']} 已无未售卡密，自动发货失败"),
    _shape(r"^delivery failed after (?P<n>\d+) attempt\(s\)$",
           lambda m: f"尝试{m['n']}次后发货失败"),
    _shape(r"^refunded (?P<money>\S+ \S+) to (?P<channel>\w+), refund_no (?P<no>\S+): "
           r"(?P<reason>.*)$",
           lambda m: f"已退款 {m['money']} 至{_channel(m['channel'])}，退款单号 {m['no']}："
                     f"{reason_zh(m['reason'])}"),
    _shape(r"^refunded (?P<money>[\d.]+): (?P<reason>.*)$",
           lambda m: f"已退款 {m['money']}：{reason_zh(m['reason'])}"),
    _shape(r"^buyer opened after-sales: (?P<reason>.*)$",
           lambda m: f"买家申请售后：{reason_zh(m['reason'])}"),
    _shape(r"^cancelled: (?P<reason>.*)$", lambda m: f"已取消：{reason_zh(m['reason'])}"),
    _shape(r"^card key (?P<serial>\S+) voided, replacement issued$",
           lambda m: f"卡密 {m['serial']} 已作废，已补发新卡密"),
    _shape(r"^card key (?P<serials>.+) voided: (?P<reason>.*)$",
           lambda m: f"卡密 {m['serials']} 已作废：{reason_zh(m['reason'])}"),
    _shape(r"^new card key (?P<serials>.+) issued: (?P<reason>.*)$",
           lambda m: f"已补发新卡密 {m['serials']}：{reason_zh(m['reason'])}"),
    _shape(r"^replacement key (?P<serial>\S+) sent$",
           lambda m: f"补发卡密 {m['serial']} 已发送"),
    _shape(r"^only (?P<n>\d+) of (?P<of>\d+) card keys in stock, delivered partially$",
           lambda m: f"库存仅有{m['n']}/{m['of']}张卡密，已部分发货"),
    _shape(r"^recipient account (?P<old>\S+) → (?P<new>\S+)$",
           lambda m: f"充值账号 {m['old']} → {m['new']}"),
)


def _line_zh(line: str) -> str | None:
    """The Chinese of one line when it has a known shape, else None."""
    if line in REASONS_ZH:
        return REASONS_ZH[line]
    for shape in SHAPES:
        match = shape.pattern.match(line)
        if match:
            return shape.zh(match)
    return None


def known_shape(kind: str, detail: str) -> bool:
    """True when the console has Chinese words for this line (raw logs count as known)."""
    if kind in RAW_LOG_KINDS or not detail or _line_zh(detail) is not None:
        return True
    return all(_line_zh(part) is not None for part in detail.split("; "))


def detail_text(kind: str, detail: str, lang: str) -> str:
    """The event's detail as the agent reads it: Chinese when the shape is known."""
    if not detail or normalise_lang(lang) == EN or kind in RAW_LOG_KINDS:
        return detail
    whole = _line_zh(detail)
    if whole is not None:
        return whole
    # Edits list their changes joined by "; "; each part is worded on its own.
    parts = detail.split("; ")
    return "；".join(_line_zh(part) or part for part in parts) if len(parts) > 1 else detail
