"""A dujiaoka shop database for tests: the real tables (schema.sql) filled from domain orders.

``DujiaokaShop.add_orders`` writes orders the way dujiaoka itself would hold them (status
codes, ``type``, delivered keys in ``info`` one per line, times in the shop's zone) and
``expected`` says what an adapter should read back: dujiaoka has no phones, tags,
refunds or categories, so those facts are gone.  Nothing here imports the adapter.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from adapters.base import Buyer, CardKey, Order, PaymentProof, Product

SCHEMA = Path(__file__).with_name("schema.sql")
ZONE = ZoneInfo("Asia/Shanghai")
CODE = {"pending_payment": 1, "paid": 2, "processing": 3, "delivered": 4, "completed": 4,
        "failed": 5, "after_sales": 6, "expired": -1, "cancelled": -1, "refunded": 6,
        "partially_refunded": 6}
READ_BACK = {1: "pending_payment", 2: "paid", 3: "processing", 5: "failed", 6: "after_sales",
             -1: "expired"}
PAY_IDS = {"alipay": 1, "wechat": 2}
PAY_CHECK = {1: "zfbf2f", 2: "wescan", 3: "paypal"}


def statements(sql: str) -> list[str]:
    """The statements of a SQL script (``;`` at line ends), comment lines dropped."""
    out = []
    for statement in sql.split(";\n"):
        body = "\n".join(line for line in statement.splitlines()
                         if not line.startswith("--")).strip().rstrip(";")
        if body:
            out.append(body)
    return out


@contextmanager
def fresh_dujiaoka_database(mariadb_url: str, indexed: bool = False) -> Iterator[str]:
    """A new database with dujiaoka's tables on the session's MariaDB, dropped afterwards.

    ``indexed`` also runs what ``kamidesk store-indexes`` prints for dujiaoka, as an
    operator would.
    """
    server = make_url(mariadb_url)
    name = "dj_" + uuid.uuid4().hex[:12]
    admin = create_engine(server.set(database=None))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 "
                          "COLLATE utf8mb4_unicode_ci"))
    url = server.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        script = SCHEMA.read_text(encoding="utf-8")
        if indexed:
            from adapters.dujiaoka import store_indexes_ddl
            script += "\n" + store_indexes_ddl() + "\n"
        with engine.begin() as conn:
            for statement in statements(script):
                conn.execute(text(statement))
        yield url
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


def local(at: datetime | None) -> datetime | None:
    """A UTC time as dujiaoka writes it: the shop's wall clock, whole seconds."""
    if at is None:
        return None
    return at.astimezone(ZONE).replace(tzinfo=None, microsecond=0)


def whole_seconds(at: datetime | None) -> datetime | None:
    return None if at is None else at.replace(microsecond=0)


class DujiaokaShop:
    """Writes goods, orders and carmis rows; remembers each product's goods id."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url)
        self.goods_ids: dict[str, int] = {}

    def close(self) -> None:
        self.engine.dispose()

    def goods_id(self, product: Product, manual: bool = False) -> int:
        if product.sku not in self.goods_ids:
            with self.engine.begin() as conn:
                self.goods_ids[product.sku] = conn.execute(text(
                    "INSERT INTO goods (group_id, gd_name, gd_description, gd_keywords, "
                    "actual_price, type, created_at, updated_at) VALUES (1, :name, :name, "
                    ":sku, :price, :type, NOW(), NOW())"), {
                        "name": product.name, "sku": product.sku, "type": 2 if manual else 1,
                        "price": product.face_value or 0}).lastrowid
        return self.goods_ids[product.sku]

    @staticmethod
    def kind(order: Order) -> int:
        """dujiaoka's ``type``: card keys are delivered automatically (1), top-ups by hand (2)."""
        return 1 if order.card_keys or not order.product.category.endswith("_topup") else 2

    def add_orders(self, items: Iterable[Order]) -> int:
        # dujiaoka's ids grow with creation time; the adapter's date bisection relies on it
        rows = [self._row(order) for order in sorted(items, key=lambda o: o.created_at)]
        with self.engine.begin() as conn:
            for start in range(0, len(rows), 500):
                conn.execute(text(
                    "INSERT INTO orders (order_sn, goods_id, title, type, goods_price, "
                    "buy_amount, coupon_discount_price, total_price, actual_price, search_pwd, "
                    "email, info, pay_id, buy_ip, trade_no, status, created_at, updated_at) "
                    "VALUES (:order_sn, :goods_id, :title, :type, :goods_price, :buy_amount, "
                    ":discount, :total_price, :actual_price, :search_pwd, :email, :info, "
                    ":pay_id, :buy_ip, :trade_no, :status, :created_at, :updated_at)"),
                    rows[start:start + 500])
        return len(rows)

    def _row(self, order: Order) -> dict:
        kind = self.kind(order)
        keys = [k for k in order.card_keys if k.status == "delivered"]
        if kind == 1:
            info = "\n".join(f"{k.serial}----{k.secret}" for k in keys) or None
        else:
            info = f"充值账号: {order.recipient_account or '-'}"
        pay_id = None
        if order.payment is not None:
            pay_id = PAY_IDS.get(order.payment.channel, 3)
        total = order.amount_paid + order.discount
        return {
            "order_sn": order.order_no, "goods_id": self.goods_id(order.product, kind == 2),
            "title": f"{order.product.name} x {order.quantity}", "type": kind,
            "goods_price": total / order.quantity, "buy_amount": order.quantity,
            "discount": order.discount, "total_price": total,
            "actual_price": order.amount_paid, "search_pwd": order.search_password or "",
            "email": order.buyer.email or "", "info": info, "pay_id": pay_id,
            "buy_ip": order.buyer_ip or "",
            "trade_no": (order.payment.transaction_id if order.payment else None) or "",
            "status": CODE[order.status], "created_at": local(order.created_at),
            "updated_at": local(order.updated_at or order.created_at),
        }

    def add_carmis(self, product: Product, secrets: list[str], loop: bool = False) -> None:
        goods_id = self.goods_id(product)
        with self.engine.begin() as conn:
            conn.execute(text("INSERT INTO carmis (goods_id, status, is_loop, carmi, created_at, "
                              "updated_at) VALUES (:g, 1, :loop, :carmi, NOW(), NOW())"),
                         [{"g": goods_id, "loop": int(loop), "carmi": s} for s in secrets])

    def unsold(self, product: Product) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT COUNT(*) FROM carmis WHERE goods_id = :g AND "
                                     "status = 1"), {"g": self.goods_ids[product.sku]}).scalar()

    def info(self, order_no: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT info FROM orders WHERE order_sn = :sn"),
                                {"sn": order_no}).scalar()

    def expected(self, order: Order) -> Order:
        """The order as a dujiaoka database can hold it, read back."""
        kind = self.kind(order)
        code = CODE[order.status]
        status = ("delivered" if kind == 1 else "completed") if code == 4 else READ_BACK[code]
        keys: tuple[CardKey, ...] = ()
        if kind == 1:
            keys = tuple(CardKey(k.serial, k.secret, "delivered") for k in order.card_keys
                         if k.status == "delivered")
        payment = None
        if order.payment is not None:
            payment = PaymentProof(channel=PAY_CHECK[PAY_IDS.get(order.payment.channel, 3)],
                                   transaction_id=order.payment.transaction_id)
        return order.replace(
            status=status, created_at=whole_seconds(order.created_at),
            product=Product(sku=str(self.goods_ids[order.product.sku]),
                            name=order.product.name, category="other"),
            buyer=Buyer(email=order.buyer.email or None), card_keys=keys, payment=payment,
            tags=(), refunded_amount=order.refunded_amount.__class__("0.00"))


def utc(at: datetime) -> datetime:
    return at.astimezone(timezone.utc)
