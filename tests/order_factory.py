"""Hand-made orders for the action tests: each test states the one fact it depends on."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from adapters.base import Buyer, CardKey, Order, OrderEvent, PaymentProof, Product

KEY_CARD = Product(sku="QB-100", name="腾讯Q币100元卡密", category="game_card",
                   face_value=Decimal("100.00"))
HALF_CARD = Product(sku="QB-50", name="腾讯Q币50元卡密", category="game_card",
                    face_value=Decimal("50.00"))
OTHER_CARD = Product(sku="STEAM-100", name="Steam 100元充值卡", category="gift_card",
                     face_value=Decimal("100.00"))
TOPUP = Product(sku="CM-100", name="中国移动话费100元", category="phone_topup",
                face_value=Decimal("100.00"))
PRODUCTS = (KEY_CARD, HALF_CARD, OTHER_CARD, TOPUP)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def make_order(order_no: str, status: str = "paid", amount: str = "98.50",
               product: Product = KEY_CARD, quantity: int = 1, paid_ago: timedelta | None =
               timedelta(hours=1), keys: int = 0, refunded: str = "0.00",
               recipient: str = "10001") -> Order:
    """An order ``paid_ago`` ago (None: unpaid) with ``keys`` delivered card keys."""
    now = utcnow()
    created = now - (paid_ago or timedelta(0)) - timedelta(minutes=1)
    paid_at = None if paid_ago is None else now - paid_ago
    events = [OrderEvent(created, "created", "order placed")]
    payment = None
    if paid_at is not None:
        events.append(OrderEvent(paid_at, "paid", "alipay payment confirmed"))
        payment = PaymentProof(channel="alipay", transaction_id="T" + order_no,
                               amount=Decimal(amount), paid_at=paid_at)
    card_keys = tuple(CardKey(f"{order_no}-S{i}", f"{order_no}-SECRET-{i}", "delivered", paid_at)
                      for i in range(keys))
    return Order(
        order_no=order_no, status=status, created_at=created, product=product,
        quantity=quantity, amount_paid=Decimal(amount),
        face_value=product.face_value * quantity if product.face_value else None,
        refunded_amount=Decimal(refunded), paid_at=paid_at, updated_at=paid_at or created,
        buyer=Buyer(account="buyer" + order_no[-4:], phone="13800138000",
                    email="buyer@example.com"),
        recipient_account=recipient, buyer_ip="203.0.113.9", payment=payment,
        card_keys=card_keys, events=tuple(events),
    )


def stock(store, product: Product, count: int, prefix: str = "NEW") -> list[str]:
    """Put ``count`` unsold keys of ``product`` on the shelf; returns their serials."""
    store.add_products([product])
    serials = [f"{prefix}-{product.sku}-{i:03d}" for i in range(count)]
    store.add_inventory((product.sku, CardKey(s, s + "-SECRET", "unsold")) for s in serials)
    return serials


def load(store, *orders: Order) -> None:
    store.add_products(PRODUCTS)
    store.load(orders)
