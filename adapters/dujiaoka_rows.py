"""How a dujiaoka (独角数卡) row reads as the port's domain objects.

dujiaoka keeps an order in one ``orders`` row: ``status`` codes, ``type`` (1 automatic
delivery of card keys from ``carmis``, 2 a person delivers), the buyer's ``email`` and
``buy_ip``, the payment channel's ``trade_no`` and ``info``: for automatic goods the
delivered card keys, one per line; for manual goods what the buyer typed in the shop's
extra fields.  Times are the shop's local wall-clock time (Laravel writes them in its
application time zone), so they are read in that zone and turned into UTC.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone, tzinfo

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
)

from adapters.base import (
    Buyer,
    CardKey,
    Order,
    OrderEvent,
    OrderSummary,
    PaymentProof,
    Product,
    money,
)

AUTO, MANUAL = 1, 2  # goods/orders ``type``: 1 自动发货, 2 人工处理
CATEGORY = "other"   # dujiaoka's goods groups are free names, not the console's categories

# order ``status`` -> reference status; 4 (已完成) depends on the delivery type
STATUS_OF: dict[int, str] = {1: "pending_payment", 2: "paid", 3: "processing",
                             5: "failed", 6: "after_sales", -1: "expired"}
COMPLETED = 4
# reference status -> (status code, type or None for any type)
CODES_OF: dict[str, tuple[int, int | None]] = {
    "pending_payment": (1, None), "paid": (2, None), "processing": (3, None),
    "delivered": (COMPLETED, AUTO), "completed": (COMPLETED, MANUAL), "failed": (5, None),
    "after_sales": (6, None), "expired": (-1, None),
}
UNSOLD, SOLD = 1, 2  # carmis ``status``: 1 未售出, 2 已售出

# A line the adapter writes into ``info`` before the keys of a reissue; the keys above it
# were replaced.  The buyer sees ``info`` on dujiaoka's order page, so it reads plainly.
REISSUE_MARK = "=== 补发 / reissued {at} ==="
REISSUE_LINE = re.compile(r"^=== 补发 / reissued (.+) ===$")
# "卡号: A 密码: B", "A----B", "A,B", "A B": a serial and a secret; anything else is one key
_PAIR = re.compile(r"^\s*(?:卡号[:：]\s*)?(\S+?)\s*(?:----|[,，]|\s+)\s*(?:密码[:：]\s*)?(\S+)\s*$")

meta = MetaData()

orders = Table(
    "orders", meta,
    Column("id", BigInteger, primary_key=True),
    Column("order_sn", String(150)), Column("goods_id", Integer), Column("title", String(200)),
    Column("type", SmallInteger), Column("goods_price", Numeric(10, 2)),
    Column("buy_amount", Integer), Column("coupon_discount_price", Numeric(10, 2)),
    Column("wholesale_discount_price", Numeric(10, 2)), Column("total_price", Numeric(10, 2)),
    Column("actual_price", Numeric(10, 2)), Column("search_pwd", String(200)),
    Column("email", String(200)), Column("info", Text), Column("pay_id", Integer),
    Column("buy_ip", String(50)), Column("trade_no", String(200)),
    Column("status", SmallInteger), Column("created_at", DateTime),
    Column("updated_at", DateTime), Column("deleted_at", DateTime),
)
goods = Table(
    "goods", meta,
    Column("id", Integer, primary_key=True), Column("gd_name", String(200)),
    Column("retail_price", Numeric(10, 2)), Column("actual_price", Numeric(10, 2)),
    Column("type", SmallInteger), Column("deleted_at", DateTime),
)
carmis = Table(
    "carmis", meta,
    Column("id", BigInteger, primary_key=True), Column("goods_id", Integer),
    Column("status", SmallInteger), Column("is_loop", SmallInteger), Column("carmi", Text),
    Column("created_at", DateTime), Column("updated_at", DateTime),
    Column("deleted_at", DateTime),
)
pays = Table(
    "pays", meta,
    Column("id", Integer, primary_key=True), Column("pay_name", String(200)),
    Column("pay_check", String(50)),
)
# The adapter's own table: one row per idempotency key spent on an action.
actions = Table(
    "kamidesk_actions", meta,
    Column("idem_key", String(128), primary_key=True), Column("order_sn", String(150)),
    Column("kind", String(16)), Column("reason", String(500)), Column("created_at", DateTime),
)

ACTIONS_DDL = """CREATE TABLE IF NOT EXISTS kamidesk_actions (
  idem_key varchar(128) NOT NULL PRIMARY KEY,
  order_sn varchar(150) NOT NULL,
  kind varchar(16) NOT NULL,
  reason varchar(500) NOT NULL DEFAULT '',
  created_at datetime NOT NULL,
  KEY kd_actions_order (order_sn)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""


def status_of(code: int, kind: int) -> str:
    if code == COMPLETED:
        return "delivered" if kind == AUTO else "completed"
    return STATUS_OF.get(code, "after_sales")  # an unknown code needs a person's eye


class Clock:
    """Converts between the shop's wall-clock times and the port's aware UTC times."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone

    def read(self, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.zone)
        return value.astimezone(timezone.utc)

    def write(self, value: datetime) -> datetime:
        return value.astimezone(self.zone).replace(tzinfo=None)

    def now(self) -> datetime:
        return self.write(datetime.now(timezone.utc))


def parse_info(info: str | None, clock: Clock,
               delivered_at: datetime | None) -> tuple[tuple[CardKey, ...], tuple[OrderEvent, ...]]:
    """Card keys (those before the last reissue mark were replaced) and reissue events."""
    blocks: list[list[str]] = [[]]
    marks: list[datetime] = []
    for raw in (info or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        mark = REISSUE_LINE.match(line)
        if mark:
            marks.append(_mark_time(mark.group(1), clock) or delivered_at or _EPOCH)
            blocks.append([])
        else:
            blocks[-1].append(line)
    keys: list[CardKey] = []
    for number, block in enumerate(blocks):
        live = number == len(blocks) - 1
        at = marks[number - 1] if number else delivered_at
        keys.extend(card_key(line, "delivered" if live else "reissued", at) for line in block)
    events = tuple(OrderEvent(at, "reissued", f"new card key {', '.join(_serials(blocks[i + 1]))}")
                   for i, at in enumerate(marks))
    return tuple(keys), events


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _serials(lines: list[str]) -> list[str]:
    return [card_key(line, "delivered", None).serial for line in lines]


def _mark_time(text: str, clock: Clock) -> datetime | None:
    try:
        return clock.read(datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S"))
    except ValueError:
        return None


def card_key(line: str, status: str, at: datetime | None) -> CardKey:
    pair = _PAIR.match(line)
    if pair:
        return CardKey(serial=pair.group(1), secret=pair.group(2), status=status, delivered_at=at)
    return CardKey(serial=line, secret=line, status=status, delivered_at=at)


def reissue_text(info: str | None, carmi_lines: list[str], at: str) -> str:
    """``info`` after a reissue: the old keys, the mark, the new keys (a fresh order: keys)."""
    old = (info or "").rstrip("\n")
    if not old.strip():
        return "\n".join(carmi_lines)
    return "\n".join([old, REISSUE_MARK.format(at=at), *carmi_lines])


def summary_from_row(row, clock: Clock) -> OrderSummary:
    return OrderSummary(
        order_no=row.order_sn, status=status_of(row.status, row.type),
        created_at=clock.read(row.created_at) or _EPOCH, product_name=row.gd_name or row.title,
        category=CATEGORY, amount_paid=money(row.actual_price), quantity=row.buy_amount,
        sku=str(row.goods_id), buyer=Buyer(email=row.email or None),
        buyer_ip=row.buy_ip or None, transaction_id=row.trade_no or None)


def order_from_row(row, clock: Clock) -> Order:
    """The whole order from one ``orders`` row joined to its goods and payment channel."""
    created = clock.read(row.created_at) or _EPOCH
    updated = clock.read(row.updated_at)
    status = status_of(row.status, row.type)
    paid = row.status not in (1, -1)
    keys: tuple[CardKey, ...] = ()
    events: list[OrderEvent] = [OrderEvent(created, "created", row.title or "")]
    remark = None
    if row.type == AUTO:
        keys, reissues = parse_info(row.info, clock, updated if status == "delivered" else None)
        events.extend(reissues)
    else:
        remark = (row.info or "").strip() or None
    if updated and updated != created and (not events or updated >= events[-1].at):
        events.append(OrderEvent(updated, status, "status in dujiaoka: "
                                 f"{row.status} ({_LABELS.get(row.status, '?')})"))
    payment = None
    if row.pay_id or row.trade_no:
        payment = PaymentProof(channel=row.pay_check or row.pay_name or "unknown",
                               transaction_id=row.trade_no or None,
                               amount=money(row.actual_price) if paid else None)
    discount = money(row.coupon_discount_price or 0) + money(row.wholesale_discount_price or 0)
    return Order(
        order_no=row.order_sn, status=status, created_at=created,
        product=Product(sku=str(row.goods_id), name=row.gd_name or row.title,
                        category=CATEGORY),
        quantity=row.buy_amount, amount_paid=money(row.actual_price), discount=discount,
        updated_at=updated, buyer=Buyer(email=row.email or None),
        buyer_ip=row.buy_ip or None, payment=payment, card_keys=keys,
        events=tuple(sorted(events, key=lambda e: e.at)), remark=remark,
        search_password=row.search_pwd or None)


_LABELS = {1: "待支付", 2: "待处理", 3: "处理中", 4: "已完成", 5: "处理失败", 6: "异常", -1: "过期"}
