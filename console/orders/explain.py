"""Plain-words explanations of an order's status, per product category, in English and 简体中文.

Agents paste these to customers and act on ``next_step``; the wording depends on the
category because "processing" means a mobile operator for phone credit but a stock
lookup for a card key.  Unknown statuses or categories get a generic answer, never an
exception, because stores map their own codes and may send something new.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

EN = "en"
ZH = "zh_CN"
LANGS: tuple[str, ...] = (EN, ZH)

_ZH_ALIASES = frozenset({
    "zh", "zh_cn", "zh_hans", "zh_hans_cn", "zh_sg", "zh_hans_sg", "cn", "zh_chs",
})

# Statuses after which nothing more happens by itself (the timeline highlights nothing).
FINAL_STATUSES: frozenset[str] = frozenset({
    "delivered", "completed", "failed", "cancelled", "refunded", "partially_refunded", "expired",
})
# Statuses where the shop, supplier or customer still owes a move (stuck detection applies).
ACTIVE_STATUSES: frozenset[str] = frozenset({
    "pending_payment", "paid", "processing", "after_sales",
})


def normalise_lang(lang: str | None) -> str:
    """Map a browser/Babel locale to LANGS: Simplified Chinese variants to zh_CN, the rest to en."""
    key = (lang or "").strip().lower().replace("-", "_")
    return ZH if key in _ZH_ALIASES else EN


@dataclass(frozen=True)
class Explanation:
    """What an order's status means: words for the customer, an instruction for the agent."""

    title: str
    text: str
    expected_wait: str
    wait_minutes: int | None
    next_step: str


# --- labels -----------------------------------------------------------------

_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "pending_payment": ("Awaiting payment", "待支付"),
    "paid": ("Paid", "已支付"),
    "processing": ("Processing", "处理中"),
    "delivered": ("Delivered", "已发货"),
    "completed": ("Completed", "已完成"),
    "failed": ("Failed", "处理失败"),
    "after_sales": ("After-sales", "售后中"),
    "cancelled": ("Cancelled", "已取消"),
    "refunded": ("Refunded", "已退款"),
    "partially_refunded": ("Partially refunded", "部分退款"),
    "expired": ("Expired", "已过期"),
}

_CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "game_card": ("Game card", "游戏点卡"),
    "game_topup": ("Game top-up", "游戏直充"),
    "phone_topup": ("Phone credit top-up", "话费充值"),
    "data_topup": ("Mobile data top-up", "流量充值"),
    "video_membership": ("Video membership", "视频会员"),
    "gift_card": ("Gift card", "礼品卡"),
    "virtual_currency": ("Virtual currency", "虚拟币"),
    "software_key": ("Software key", "软件激活码"),
    "other": ("Other", "其他商品"),
}


def humanise(code: str) -> str:
    """Turn an unknown code such as ``supplier_timeout`` into "Supplier timeout"."""
    words = str(code or "").replace("-", " ").replace("_", " ").split()
    return " ".join(words).capitalize() if words else "Unknown"


def status_label(status: str, lang: str) -> str:
    """Short status name for badges; unknown codes are humanised rather than hidden."""
    pair = _STATUS_LABELS.get(status)
    if pair is None:
        return humanise(status) if normalise_lang(lang) == EN else f"未知状态（{status or '空'}）"
    return pair[0] if normalise_lang(lang) == EN else pair[1]


def category_label(category: str, lang: str) -> str:
    """Short product-type name; unknown categories read as "Other"."""
    en, zh = _CATEGORY_LABELS.get(category, _CATEGORY_LABELS["other"])
    return en if normalise_lang(lang) == EN else zh


# --- per-category wording -----------------------------------------------------

@dataclass(frozen=True)
class _Text:
    """One sentence in both languages, so the two can never drift apart in the tables."""

    en: str
    zh: str

    def get(self, lang: str) -> str:
        return self.en if lang == EN else self.zh


@dataclass(frozen=True)
class _Profile:
    """How one product type is fulfilled; only these facts change between categories."""

    mode: str                 # "key" (card key issued), "direct" (credited to an account), "other"
    wait_minutes: int         # typical upper bound from payment to delivery
    wait: _Text               # the same, for humans
    fulfil: _Text             # what happens after payment (clause)
    processing: _Text
    processing_next: _Text
    delivered: _Text
    delivered_next: _Text
    done: _Text               # short clause: what the customer got
    failed: _Text
    issue: _Text              # a typical after-sales complaint (clause)
    partial: _Text            # a typical reason for a partial refund (clause)


def _key_profile(noun_en: str, noun_zh: str, use_en: str, use_zh: str) -> _Profile:
    """Card-key products differ only in the noun and how the key is used."""
    return _Profile(
        mode="key",
        wait_minutes=5,
        wait=_Text("usually within 5 minutes", "通常5分钟内发放"),
        fulfil=_Text(f"the {noun_en} is issued automatically", f"系统将自动发放{noun_zh}"),
        processing=_Text(
            f"The {noun_en} is being taken from stock or fetched from the supplier. "
            "It usually appears on the order page within 5 minutes.",
            f"系统正在从库存或供货商处提取{noun_zh}，一般5分钟内会显示在订单页面。",
        ),
        processing_next=_Text(
            "Ask the customer to wait a few minutes and refresh the order page. If it takes longer, "
            "check the stock of this product and the supplier's status.",
            "请客户稍等几分钟后刷新订单页面。如超时仍未发放，请检查该商品库存和供货商状态。",
        ),
        delivered=_Text(
            f"The {noun_en} has been issued. It is shown on the order page and was sent by email; "
            f"the customer can {use_en}.",
            f"{noun_zh}已发放，可在订单页面查看，同时已发送到下单邮箱，客户可{use_zh}。",
        ),
        delivered_next=_Text(
            "If the customer cannot find it, tell them to look the order up by order number or email and "
            "to check the spam folder. If the key is reported invalid or already used, ask for a screenshot "
            "of the error and open an after-sales case.",
            "如客户找不到，请引导其用订单号或邮箱查询订单，并检查邮箱垃圾箱。如反馈卡密无效或已被使用，"
            "请客户提供报错截图，并转售后处理。",
        ),
        done=_Text(f"the {noun_en} was delivered on the order page and by email",
                   f"{noun_zh}已通过订单页面和邮件发放"),
        failed=_Text(
            f"No {noun_en} could be issued, usually because the product is out of stock "
            "or the supplier returned an error.",
            f"未能发放{noun_zh}，通常是商品缺货或供货商接口出错。",
        ),
        issue=_Text(f"the {noun_en} is reported invalid or already used", f"{noun_zh}提示无效或已被使用"),
        partial=_Text("not all of the card keys could be issued", "部分卡密未能发放"),
    )


_PROFILES: dict[str, _Profile] = {
    "phone_topup": _Profile(
        mode="direct",
        wait_minutes=10,
        wait=_Text("usually within 10 minutes, longer at peak (evenings, month start)",
                   "通常10分钟内到账，高峰期（晚间、月初）可能更久"),
        fulfil=_Text("the top-up is sent to the mobile operator", "将提交运营商进行充值"),
        processing=_Text(
            "The mobile operator is handling the top-up. The credit usually arrives within 10 minutes; "
            "at peak times (evenings, the start of the month) it can take longer.",
            "运营商正在处理充值，一般10分钟内到账；晚间、月初等高峰期可能会慢一些。",
        ),
        processing_next=_Text(
            "Ask the customer to wait and check the balance by the operator's SMS or app. Do not refund "
            "while the top-up is still in progress: it may still arrive. If it is well past the usual "
            "wait, ask the supplier about this order.",
            "请客户耐心等待，可通过运营商短信或App查询余额。充值仍在处理中时不要退款，否则可能到账后又退款造成损失。"
            "如已明显超过正常时长，请向供货商查询该订单。",
        ),
        delivered=_Text(
            "The operator has confirmed the top-up to the recipient phone number. The customer usually "
            "gets an SMS from the operator; the balance may take a few minutes to update.",
            "运营商已确认充值到收款手机号，客户一般会收到运营商的到账短信，余额显示可能延迟几分钟。",
        ),
        delivered_next=_Text(
            "If the customer says the credit did not arrive, check the recipient number on the order and "
            "ask them to check the balance with the operator. Ask the supplier for the operator's receipt "
            "if needed.",
            "如客户反映未到账，请先核对订单上的充值号码，再请客户向运营商查询余额；必要时向供货商索取运营商充值凭证。",
        ),
        done=_Text("the credit was added to the recipient phone number", "话费已充值到收款手机号"),
        failed=_Text(
            "The operator or supplier rejected the top-up, for example because the number is wrong, "
            "belongs to an operator or region that is not supported, or is suspended.",
            "运营商或供货商未能完成充值，常见原因有：号码填写错误、号码所属运营商或地区不支持、号码已停机等。",
        ),
        issue=_Text("the credit is not showing on the phone number", "话费未到账"),
        partial=_Text("only part of the credit arrived", "话费只到账了一部分"),
    ),
    "data_topup": _Profile(
        mode="direct",
        wait_minutes=30,
        wait=_Text("usually within 30 minutes, longer at peak", "通常30分钟内生效，高峰期可能更久"),
        fulfil=_Text("the data package is ordered from the mobile operator", "将向运营商订购流量包"),
        processing=_Text(
            "The mobile operator is adding the data package to the recipient phone number. It usually "
            "takes effect within 30 minutes, and the operator sends an SMS when it does.",
            "运营商正在为充值号码开通流量包，一般30分钟内生效，生效后运营商会发送短信通知。",
        ),
        processing_next=_Text(
            "Ask the customer to wait for the operator's SMS. Do not refund while the order is still "
            "processing. If it is well past the usual wait, ask the supplier about this order.",
            "请客户留意运营商的短信通知。订单处理中请勿退款。如已明显超过正常时长，请向供货商查询该订单。",
        ),
        delivered=_Text(
            "The data package was added to the recipient phone number. The customer can check it in the "
            "operator's app or by SMS; some packages only take effect the next day or next month, as the "
            "product page says.",
            "流量包已充值到收款手机号，客户可在运营商App或通过短信查询。部分流量包按商品说明次日或次月生效。",
        ),
        delivered_next=_Text(
            "If the customer cannot see the data, check the recipient number and when the package takes "
            "effect according to the product, then ask them to check with the operator.",
            "如客户查不到流量，请核对充值号码以及商品的生效规则（立即、次日或次月生效），再请客户向运营商查询。",
        ),
        done=_Text("the data package was added to the recipient phone number", "流量包已充值到收款手机号"),
        failed=_Text(
            "The operator or supplier could not add the data package, for example because the number is "
            "wrong, the region is not supported, or it conflicts with the customer's current plan.",
            "运营商或供货商未能开通流量包，常见原因有：号码错误、所在地区不支持、与现有套餐冲突等。",
        ),
        issue=_Text("the data package is not showing", "流量未到账"),
        partial=_Text("only part of the data package was added", "流量只到账了一部分"),
    ),
    "game_topup": _Profile(
        mode="direct",
        wait_minutes=30,
        wait=_Text("usually within 30 minutes", "通常30分钟内到账"),
        fulfil=_Text("the supplier credits the game account", "供货商将为游戏账号充值"),
        processing=_Text(
            "The supplier is crediting the game account on the order. It usually arrives within 30 "
            "minutes. The account, server and role on the order must be correct.",
            "供货商正在为订单上的游戏账号充值，一般30分钟内到账。请确认订单上的账号、区服和角色填写正确。",
        ),
        processing_next=_Text(
            "Check the game account, server and role on the order with the customer. Ask them to wait, "
            "and do not refund while the top-up is in progress.",
            "与客户核对订单上的游戏账号、区服和角色。请客户耐心等待，充值处理中请勿退款。",
        ),
        delivered=_Text(
            "The top-up was credited to the game account on the order. The customer should check the "
            "server and role it went to; some games need a fresh login before the balance shows.",
            "充值已到账至订单上的游戏账号，请客户确认对应的区服和角色；部分游戏需要重新登录才会显示。",
        ),
        delivered_next=_Text(
            "If the customer cannot see it, confirm the account, server and role on the order, ask them to "
            "log out and back in, and check the top-up history inside the game.",
            "如客户查不到，请核对账号、区服和角色，请客户重新登录游戏，并查看游戏内的充值记录。",
        ),
        done=_Text("the top-up was credited to the game account", "充值已到账至游戏账号"),
        failed=_Text(
            "The supplier could not credit the game account, for example because the account does not "
            "exist, the server or role is wrong, or the game's top-up channel is under maintenance.",
            "供货商未能为游戏账号充值，常见原因有：账号不存在、区服或角色填写错误、游戏充值通道维护等。",
        ),
        issue=_Text("the top-up is not showing in the game", "游戏内未到账"),
        partial=_Text("only part of the top-up was credited", "充值只到账了一部分"),
    ),
    "video_membership": _Profile(
        mode="direct",
        wait_minutes=10,
        wait=_Text("usually within 10 minutes", "通常10分钟内开通"),
        fulfil=_Text("the membership is activated on the recipient account", "将为充值账号开通会员"),
        processing=_Text(
            "The supplier is activating the membership on the recipient account. It usually takes effect "
            "within 10 minutes.",
            "供货商正在为充值账号开通会员，一般10分钟内生效。",
        ),
        processing_next=_Text(
            "Confirm the recipient account (usually a phone number or the platform's account ID) with the "
            "customer and ask them to wait.",
            "与客户核对充值账号（通常是手机号或平台账号ID），并请客户耐心等待。",
        ),
        delivered=_Text(
            "The membership was activated on the recipient account. The customer must log in to the video "
            "app with that same account to see it, and may need to log in again.",
            "会员已开通到充值账号。客户需用该账号登录视频App查看，必要时退出后重新登录。",
        ),
        delivered_next=_Text(
            "If the customer cannot see it, confirm they are logged in with the recipient account on the "
            "order (not another account) and check the membership expiry date in the app.",
            "如客户看不到会员，请确认其登录的是订单上的充值账号而不是其他账号，并在App内查看会员到期时间。",
        ),
        done=_Text("the membership was activated on the recipient account", "会员已开通到充值账号"),
        failed=_Text(
            "The supplier could not activate the membership, for example because the account is wrong or "
            "already has a membership type that cannot be combined with this one.",
            "供货商未能开通会员，常见原因有：账号填写错误，或该账号已有不能叠加的会员类型。",
        ),
        issue=_Text("the membership is not showing on the account", "会员未生效"),
        partial=_Text("only part of the membership period was added", "会员时长只到账了一部分"),
    ),
    "game_card": _key_profile("game card key", "点卡卡密",
                              "redeem it on the game's official top-up page", "在游戏官方充值页面兑换"),
    "gift_card": _key_profile("gift card code", "礼品卡卡密",
                              "redeem it on the platform that issued the card", "在发卡平台兑换使用"),
    "software_key": _key_profile("software licence key", "软件激活码",
                                 "enter it in the software to activate it", "在软件中输入激活"),
    "virtual_currency": _key_profile("virtual currency card key", "虚拟币卡密",
                                     "redeem it on the platform's recharge page", "在平台充值页面兑换到账户"),
    "other": _Profile(
        mode="other",
        wait_minutes=30,
        wait=_Text("usually within 30 minutes", "通常30分钟内处理完成"),
        fulfil=_Text("the shop fulfils the order", "商家将处理发货"),
        processing=_Text("The shop is preparing the order. It is usually done within 30 minutes.",
                         "商家正在处理订单，一般30分钟内完成。"),
        processing_next=_Text("Check the product's delivery notes and the order's events, and ask the "
                              "customer to wait.",
                              "请查看商品的发货说明和订单记录，并请客户耐心等待。"),
        delivered=_Text("The order was delivered as described on the product page; the details are on the "
                        "order page.",
                        "订单已按商品说明交付，详情可在订单页面查看。"),
        delivered_next=_Text("If the customer says nothing arrived, check the delivery record on the order "
                             "and the product's delivery notes.",
                             "如客户反映未收到，请查看订单的交付记录和商品的发货说明。"),
        done=_Text("the order was delivered", "订单已交付"),
        failed=_Text("The order could not be fulfilled, usually because of stock or a supplier error.",
                     "订单未能完成交付，通常是库存不足或供货商出错。"),
        issue=_Text("what was delivered is not what was expected", "交付内容与预期不符"),
        partial=_Text("only part of the order could be fulfilled", "订单只完成了一部分"),
    ),
}

# Mode-specific agent instructions, where card keys and direct top-ups need different actions.
_FAILED_NEXT: dict[str, _Text] = {
    "key": _Text(
        "Check the product's stock and the supplier. Reissue once a key is available; if the customer "
        "does not want to wait, refund in full.",
        "请检查该商品库存和供货商状态，有货后补发卡密；客户不愿等待的，请全额退款。",
    ),
    "direct": _Text(
        "Confirm the recipient details (number, account, server) with the customer and correct them with "
        "an edit if needed, then retry. If it still cannot be fulfilled, refund in full.",
        "与客户核对充值信息（号码、账号、区服等），如有错误先修改订单再重新提交；仍无法完成的，请全额退款。",
    ),
    "other": _Text("Find the cause in the order's events, then retry or refund in full.",
                   "请根据订单记录查明原因，重新处理或全额退款。"),
}

_AFTER_SALES_NEXT: dict[str, _Text] = {
    "key": _Text(
        "Read the after-sales notes and check the key with the supplier, then reissue a new key or "
        "refund, and tell the customer the result.",
        "请查看售后记录并向供货商核实卡密状态，然后补发新卡密或退款，并将处理结果告知客户。",
    ),
    "direct": _Text(
        "Read the after-sales notes and ask the supplier for the top-up receipt. If it really did not "
        "arrive, retry or refund, and tell the customer the result.",
        "请查看售后记录并向供货商索取充值凭证。确认确实未到账的，重新充值或退款，并将处理结果告知客户。",
    ),
    "other": _Text("Read the after-sales notes, settle the problem by reissue or refund, and tell the "
                   "customer the result.",
                   "请查看售后记录，通过补发或退款解决问题，并将处理结果告知客户。"),
}

_REFUNDED_NEXT: dict[str, _Text] = {
    "key": _Text(
        "Give the customer the refund amount and date, and make sure any card key issued for this order "
        "is voided. If the money has not arrived after 3 working days, ask the customer to check the "
        "payment app's bill, then contact the payment channel with the refund reference.",
        "告知客户退款金额和时间，并确认本订单已发放的卡密均已作废。如超过3个工作日仍未到账，"
        "请客户先查看支付App账单，再凭退款单号联系支付渠道。",
    ),
    "direct": _Text(
        "Give the customer the refund amount and date. If the money has not arrived after 3 working days, "
        "ask the customer to check the payment app's bill, then contact the payment channel with the "
        "refund reference.",
        "告知客户退款金额和时间。如超过3个工作日仍未到账，请客户先查看支付App账单，再凭退款单号联系支付渠道。",
    ),
}

_REFUND_WAIT = _Text("usually 1-3 working days for Alipay and WeChat Pay", "支付宝、微信支付一般1-3个工作日到账")
_REFUND_WAIT_MINUTES = 3 * 24 * 60
_PAYMENT_WINDOW_MINUTES = 30


# --- per-status builders ------------------------------------------------------

def _make(status: str, lang: str, text: _Text, next_step: _Text,
          wait: _Text | None = None, wait_minutes: int | None = None) -> Explanation:
    return Explanation(
        title=status_label(status, lang),
        text=text.get(lang),
        expected_wait=wait.get(lang) if wait else "",
        wait_minutes=wait_minutes,
        next_step=next_step.get(lang),
    )


def _pending_payment(p: _Profile, lang: str) -> Explanation:
    return _make(
        "pending_payment", lang,
        _Text("The order was created but payment has not been received yet. It will be closed "
              "automatically if it is not paid within its payment window.",
              "订单已创建，但尚未收到付款。如在支付时限内未付款，订单将自动关闭。"),
        _Text("If the customer says they already paid, ask for the payment receipt with the transaction "
              "number and compare it with the order: the payment channel's notice may have been lost. "
              "Otherwise ask them to finish paying on the order page.",
              "如客户表示已付款，请索要带交易单号的支付凭证与订单核对，可能是支付渠道的到账通知丢失（掉单）。"
              "否则请引导客户在订单页面完成支付。"),
        _Text(f"waiting for the customer to pay; unpaid orders close after the payment window "
              f"(usually {_PAYMENT_WINDOW_MINUTES} minutes)",
              f"等待客户付款；超过支付时限（通常{_PAYMENT_WINDOW_MINUTES}分钟）未付款将自动关闭"),
        _PAYMENT_WINDOW_MINUTES,
    )


def _paid(p: _Profile, lang: str) -> Explanation:
    return _make(
        "paid", lang,
        _Text(f"Payment was received and the order is in the queue. Next, {p.fulfil.en}.",
              f"已收到付款，订单正在排队等待处理，接下来{p.fulfil.zh}。"),
        _Text("Tell the customer the payment is confirmed and give the expected wait. If nothing moves "
              "after that, check the order's events and the supplier.",
              "告知客户付款已确认以及预计等待时间。如超时仍无进展，请查看订单记录并联系供货商。"),
        p.wait, p.wait_minutes,
    )


def _processing(p: _Profile, lang: str) -> Explanation:
    return _make("processing", lang, p.processing, p.processing_next, p.wait, p.wait_minutes)


def _delivered(p: _Profile, lang: str) -> Explanation:
    return _make("delivered", lang, p.delivered, p.delivered_next)


def _completed(p: _Profile, lang: str) -> Explanation:
    return _make(
        "completed", lang,
        _Text(f"The order is complete: {p.done.en}. Nothing is pending.",
              f"订单已完成：{p.done.zh}，没有待处理的事项。"),
        _Text("If the customer reports a problem, check the delivery record and open an after-sales case "
              "if the product's after-sales terms still apply.",
              "如客户反映问题，请先查看交付记录；仍在商品售后期内的，可转售后处理。"),
    )


def _failed(p: _Profile, lang: str) -> Explanation:
    return _make(
        "failed", lang,
        _Text(f"{p.failed.en} The customer's money is safe: the order will be retried or refunded.",
              f"{p.failed.zh}客户的款项不会损失，订单将重新处理或退款。"),
        _FAILED_NEXT[p.mode],
    )


def _after_sales(p: _Profile, lang: str) -> Explanation:
    return _make(
        "after_sales", lang,
        _Text(f"The customer reported a problem after delivery (for example, {p.issue.en}) and support "
              "is looking into it.",
              f"客户在交付后反馈了问题（例如{p.issue.zh}），客服正在处理。"),
        _AFTER_SALES_NEXT[p.mode],
        _Text("usually resolved within 24 hours", "通常24小时内处理完毕"), 24 * 60,
    )


def _cancelled(p: _Profile, lang: str) -> Explanation:
    return _make(
        "cancelled", lang,
        _Text("The order was cancelled before it was fulfilled. If it had been paid, the money goes back "
              "to the original payment channel.",
              "订单已在交付前取消。如已付款，款项将原路退回。"),
        _Text("If the customer was charged, check that a refund was recorded; otherwise nothing is needed "
              "and the customer can place a new order.",
              "如客户已付款，请确认退款已记录；否则无需处理，客户可重新下单。"),
    )


def _refunded(p: _Profile, lang: str) -> Explanation:
    return _make(
        "refunded", lang,
        _Text("The full amount was refunded to the original payment channel. Alipay and WeChat Pay usually "
              "show it within 1-3 working days; bank cards can take longer.",
              "已全额退款，款项原路退回。支付宝、微信支付一般1-3个工作日到账，银行卡可能更久。"),
        _REFUNDED_NEXT["key" if p.mode == "key" else "direct"],
        _REFUND_WAIT, _REFUND_WAIT_MINUTES,
    )


def _partially_refunded(p: _Profile, lang: str) -> Explanation:
    return _make(
        "partially_refunded", lang,
        _Text(f"Part of the amount was refunded to the original payment channel, usually because {p.partial.en}. "
              "The refunded part usually arrives within 1-3 working days for Alipay and WeChat Pay.",
              f"部分款项已原路退回，通常是因为{p.partial.zh}。退款部分通过支付宝、微信支付一般1-3个工作日到账。"),
        _Text("Check that what was delivered plus what was refunded adds up to what was paid, and explain "
              "both parts to the customer.",
              "请核对已交付部分与已退款金额之和是否等于实付金额，并向客户分别说明两部分的情况。"),
        _REFUND_WAIT, _REFUND_WAIT_MINUTES,
    )


def _expired(p: _Profile, lang: str) -> Explanation:
    return _make(
        "expired", lang,
        _Text("The order was not paid within its payment window and was closed automatically. No money was "
              "taken and nothing will be delivered.",
              "订单在支付时限内未付款，已自动关闭，未扣款，也不会发货。"),
        _Text("If the customer says they paid, ask for the payment receipt: a payment that arrived after "
              "the order closed must be handled by hand (deliver or refund). Otherwise ask them to place a "
              "new order.",
              "如客户表示已付款，请索要支付凭证：订单关闭后才到账的款项需人工处理（补单发货或退款）。否则请客户重新下单。"),
    )


def _unknown(status: str, lang: str) -> Explanation:
    shown = status or "empty"
    return Explanation(
        title=status_label(status, lang),
        text=_Text(f'The order is in a state the console does not recognise ("{shown}"). Check the order in '
                   "the shop's admin panel before telling the customer anything.",
                   f"订单处于系统无法识别的状态（{shown}），请先在商家后台核实订单情况，再答复客户。").get(lang),
        expected_wait="",
        wait_minutes=None,
        next_step=_Text("Check the order in the shop's admin panel and report the unknown status to an "
                        "administrator.",
                        "请在商家后台核实订单，并将该未知状态反馈给管理员。").get(lang),
    )


_BUILDERS: dict[str, Callable[[_Profile, str], Explanation]] = {
    "pending_payment": _pending_payment,
    "paid": _paid,
    "processing": _processing,
    "delivered": _delivered,
    "completed": _completed,
    "failed": _failed,
    "after_sales": _after_sales,
    "cancelled": _cancelled,
    "refunded": _refunded,
    "partially_refunded": _partially_refunded,
    "expired": _expired,
}

def explain_status(status: str, category: str, lang: str) -> Explanation:
    """Explain ``status`` of a ``category`` product in ``lang``; unknown inputs fall back."""
    lang = normalise_lang(lang)
    builder = _BUILDERS.get(status)
    if builder is None:
        return _unknown(status, lang)
    return builder(_PROFILES.get(category, _PROFILES["other"]), lang)
