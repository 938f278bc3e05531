"""The console's own demo data: what a first visit should find on every screen.

A fresh store of generated orders fills search and the order pages, but the screens that
show the console's own work (canned replies in the inbox, a refund waiting for a
supervisor, an edit request, a customer waiting in the chat queue) would be empty.  This
module makes one of each, through the same services agents and customers use, so the
rows are real (audited, idempotent, on orders whose state allows them).  Each part looks
for what it made before and makes nothing twice, so re-running ``make demo`` changes
nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.base import CAP_REFUND, Order, OrderStore, SearchQuery
from console.actions import rules
from console.actions import service as actions
from console.actions.models import Action, EditRequest
from console.chat import service as chat
from console.chat.identity import CustomerIdentity
from console.chat.models import CannedReply, Message
from console.models import User
from console.people import find_user

SEED_MARK = "[demo]"
REFUND_KEY = "demo-seed-large-refund"
REFUND_REASON = f"{SEED_MARK} 买家称卡密无效，申请全额退款 / buyer says the key is invalid"
EDIT_REASON = f"{SEED_MARK} 充值账号填错了 / wrong recipient account"
CHAT_USER = "demo-customer-1"
CHAT_CLIENT_ID = "demo-seed-first-message"

CANNED: tuple[tuple[str, str, str], ...] = (
    ("hi", "Greeting", "Hello, thanks for contacting us. Could you send me your order number?"),
    ("nihao", "问候", "您好，感谢您的咨询！请提供一下您的订单号，我马上为您查询。"),
    ("status", "Order status",
     "Order {order_no}: {status_explanation}"),
    ("zhuangtai", "订单状态", "订单 {order_no}：{status_explanation}"),
    ("refund-time", "Refund timing",
     "Your refund is on its way back to the original payment channel; Alipay and WeChat Pay "
     "usually show it within 1-3 working days."),
    ("tuikuan", "退款到账时间", "退款已原路退回，支付宝、微信支付一般1-3个工作日到账，请留意账单。"),
    ("redeem", "How to redeem",
     "Please redeem the card key on the official top-up page of the game or platform; if it "
     "says the key is used, send me a screenshot and I will check it with the supplier."),
)


@dataclass(frozen=True)
class SeedReport:
    """What this run made (zeros on a re-run)."""

    canned: int
    refunds: int
    edit_requests: int
    chats: int


def seed_demo_desk(store: OrderStore, session: Session) -> SeedReport:
    """Make the demo's canned replies, pending large refund, open edit request and waiting
    chat, each only if an earlier run did not."""
    agent = find_user("agent")
    if agent is None:
        raise LookupError("the demo users must exist before the demo desk is seeded")
    canned = _canned_replies(session)
    refunds = _pending_large_refund(store, session, agent)
    edit_order = _editable_order(store)
    chats, conversation_id = _waiting_chat(session, edit_order)
    edits = _open_edit_request(store, session, edit_order, conversation_id)
    return SeedReport(canned=canned, refunds=refunds, edit_requests=edits, chats=chats)


# --- canned replies -------------------------------------------------------------------------

def _canned_replies(session: Session) -> int:
    have = set(session.execute(select(CannedReply.shortcut)).scalars())
    made = 0
    for shortcut, title, body in CANNED:
        if shortcut not in have:
            chat.save_canned(session, shortcut, body, title)
            made += 1
    return made


# --- a refund above the approval limit --------------------------------------------------------

def _candidates(store: OrderStore, statuses: set[str], amount_min: Decimal | None = None,
                limit: int = 200) -> list[str]:
    """Order numbers in ``statuses`` (sorted, so every run picks the same ones)."""
    found = store.search(SearchQuery(statuses=frozenset(statuses), amount_min=amount_min,
                                     limit=limit))
    return sorted(c.summary.order_no for c in found)


def _pending_large_refund(store: OrderStore, session: Session, agent: User) -> int:
    waiting = session.execute(select(Action.id).where(
        Action.kind == "refund", Action.reason == REFUND_REASON)).first()
    if waiting is not None:
        return 0
    above = Decimal(str(current_app.config["REFUND_APPROVAL_ABOVE"]))
    for order_no in _candidates(store, {"delivered", "completed"}, above + Decimal("0.01")):
        order = store.get(order_no)
        left = actions.refund_left(session, order)
        if left > above and order.currency == "CNY" and rules.refusal_to_refund(
                order, left, left) is None:
            reference = "DEMO-MANUAL" if CAP_REFUND not in store.capabilities else None
            actions.refund(store, actor=agent, order_no=order_no, amount=f"{left:.2f}",
                           reason=REFUND_REASON, idempotency_key=REFUND_KEY,
                           settings=actions.ActionSettings.from_config(current_app.config),
                           manual_reference=reference, session=session)
            return 1
    return 0


# --- a customer waiting in the chat queue, who asked for an edit -------------------------------

def _editable_order(store: OrderStore) -> Order | None:
    """The newest paid order not delivered yet (a top-up, so the recipient account can
    change); order numbers start with their date, so the last sorted is the newest."""
    for order_no in reversed(_candidates(store, {"paid", "processing"})):
        order = store.get(order_no)
        if order.recipient_account and rules.refusal_to_edit(order) is None:
            return order
    return None


def _waiting_chat(session: Session, order: Order | None) -> tuple[int, int]:
    """(made, conversation id): a signed-in customer's unanswered chat about ``order``."""
    identity = CustomerIdentity(user_id=CHAT_USER,
                                phone=order.buyer.phone if order else None)
    conversation = chat.start_conversation(session, identity, "zh_CN")
    if order is not None:
        chat.link_order(session, conversation, order.order_no, via="phone_tail")
        session.commit()
    first = session.execute(select(Message.id).where(
        Message.conversation_id == conversation.id, Message.client_id == CHAT_CLIENT_ID)).first()
    if first is not None:
        return 0, conversation.id
    about = f"订单 {order.order_no} " if order else ""
    chat.post_message(session, conversation.id, sender_kind="customer",
                      client_id=CHAT_CLIENT_ID, order_no=order.order_no if order else None,
                      body=f"你好，{about}付款后一直在处理中，充值账号还填错了，能帮我改一下吗？")
    return 1, conversation.id


def _open_edit_request(store: OrderStore, session: Session, order: Order | None,
                       conversation_id: int) -> int:
    if order is None:
        return 0
    made = session.execute(select(EditRequest.id).where(
        EditRequest.reason == EDIT_REASON)).first()
    if made is not None:
        return 0
    account = order.recipient_account or ""
    fixed = account[:-1] + ("0" if account[-1:] != "0" else "1") if account else "13800000000"
    actions.request_edit(store, order_no=order.order_no,
                         changes={"recipient_account": fixed}, reason=EDIT_REASON,
                         via="customer", conversation_id=conversation_id)
    return 1
