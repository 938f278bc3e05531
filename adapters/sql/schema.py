"""The reference order store's tables, shaped for lookups rather than for a shop front.

Money is stored as integer cents (exact, fast, portable); times as UTC.  Every
column a customer might quote to an agent has an index.  ``create_schema`` only
ever creates what is missing, so pointing Kamidesk at an existing store never
drops a row.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Engine

metadata = MetaData()


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, whatever the backend keeps."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the order store")
        value = value.astimezone(timezone.utc)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(DateTime(timezone=dialect.name == "postgresql"))


Id = BigInteger().with_variant(Integer, "sqlite")

products = Table(
    "products", metadata,
    Column("id", Id, primary_key=True),
    Column("sku", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("category", String(32), nullable=False),
    Column("face_value_cents", BigInteger),
)

buyers = Table(
    "buyers", metadata,
    Column("id", Id, primary_key=True),
    Column("identity", String(320), nullable=False, unique=True),
    Column("account", String(120)),
    Column("phone", String(32)),
    Column("phone_tail", String(4)),
    Column("email", String(254)),
    Index("ix_buyers_phone", "phone"),
    Index("ix_buyers_phone_tail", "phone_tail"),
    Index("ix_buyers_email", "email"),
    Index("ix_buyers_account", "account"),
)

orders = Table(
    "orders", metadata,
    Column("id", Id, primary_key=True),
    Column("order_no", String(64), nullable=False, unique=True),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    Column("buyer_id", ForeignKey("buyers.id")),
    Column("status", String(24), nullable=False),
    Column("quantity", Integer, nullable=False, default=1),
    Column("face_value_cents", BigInteger),
    Column("amount_cents", BigInteger, nullable=False),
    Column("discount_cents", BigInteger, nullable=False, default=0),
    Column("refunded_cents", BigInteger, nullable=False, default=0),
    Column("currency", String(8), nullable=False, default="CNY"),
    Column("recipient_account", String(120)),
    Column("buyer_ip", String(45)),
    Column("region", String(40)),
    Column("operator", String(40)),
    Column("supplier", String(80)),
    Column("remark", Text),
    Column("search_password", String(120)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("paid_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_orders_created", "created_at"),
    Index("ix_orders_updated", "updated_at"),
    Index("ix_orders_buyer", "buyer_id", "created_at"),
    Index("ix_orders_product", "product_id", "created_at"),
    Index("ix_orders_amount", "amount_cents", "created_at"),
    Index("ix_orders_ip", "buyer_ip"),
    Index("ix_orders_recipient", "recipient_account"),
    Index("ix_orders_status", "status", "created_at"),
)

payments = Table(
    "payments", metadata,
    Column("id", Id, primary_key=True),
    Column("order_id", ForeignKey("orders.id"), nullable=False, unique=True),
    Column("channel", String(24), nullable=False),
    Column("transaction_id", String(80)),
    Column("payer", String(120)),
    Column("amount_cents", BigInteger),
    Column("paid_at", UtcDateTime),
    Column("proof_url", Text),
    Index("ix_payments_txn", "transaction_id"),
)

card_keys = Table(
    "card_keys", metadata,
    Column("id", Id, primary_key=True),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    Column("order_id", ForeignKey("orders.id")),
    Column("serial", String(120), nullable=False),
    Column("secret", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("delivered_at", UtcDateTime),
    Index("ix_card_keys_serial", "serial"),
    Index("ix_card_keys_order", "order_id"),
    Index("ix_card_keys_stock", "product_id", "status"),
)

order_events = Table(
    "order_events", metadata,
    Column("id", Id, primary_key=True),
    Column("order_id", ForeignKey("orders.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_order_events_order", "order_id", "at"),
)

order_tags = Table(
    "order_tags", metadata,
    Column("order_id", ForeignKey("orders.id"), primary_key=True),
    Column("tag", String(40), primary_key=True),
    Index("ix_order_tags_tag", "tag"),
)

store_actions = Table(
    "store_actions", metadata,
    Column("key", String(128), primary_key=True),
    Column("order_id", ForeignKey("orders.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    UniqueConstraint("key", name="uq_store_actions_key"),
)

CHILD_TABLES = (payments, order_events, order_tags)


def create_schema(engine: Engine) -> None:
    """Create missing tables and indexes; never alter or drop existing ones."""
    metadata.create_all(engine, checkfirst=True)
