"""The port between the console and a shop's order store.

The console talks to order stores through this module only: every concrete
store (the reference SQL store, dujiaoka, a shop's HTTP API) returns these
frozen domain objects and raises these typed errors.  Stores are poorer or
richer than one another, so optional facts are ``None`` or empty and optional
actions are declared as capabilities rather than assumed.

What lives in ``adapters/`` and who may import it:

- ``adapters.base`` (this module): the port, for everyone.
- ``adapters`` (``build_order_store``): the one place a concrete store is
  chosen; the console calls it from ``console.store`` and nowhere else.
- The adapters, imported only through the factory: ``adapters.sql`` (the
  reference store), ``adapters.dujiaoka`` (with ``dujiaoka_rows``, how its rows
  read) and ``adapters.http`` (with ``http_wire``, the shop API's JSON shapes).
- Not adapters, listed in ``CODECS``: ``adapters.orders_jsonl`` is the codec
  of the order JSONL (text <-> ``Order``) and ``adapters.demo_data`` the
  generator of demo orders, products and stock.  They hold no store and reach
  no shop, so the console may import them like this module.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

# --- vocabulary -------------------------------------------------------------

STATUSES: tuple[str, ...] = (
    "pending_payment", "paid", "processing", "delivered", "completed", "failed",
    "after_sales", "cancelled", "refunded", "partially_refunded", "expired",
)
CATEGORIES: tuple[str, ...] = (
    "game_card", "game_topup", "phone_topup", "data_topup", "video_membership",
    "gift_card", "virtual_currency", "software_key", "other",
)
CARD_KEY_STATES: tuple[str, ...] = ("unsold", "delivered", "voided", "reissued")

# Capabilities a store may declare.  The console shows or hides features by them.
CAP_SEARCH = "search"
CAP_EDIT = "edit"
CAP_REISSUE = "reissue"
CAP_REFUND = "refund"
CAP_CANCEL = "cancel"
CAP_WEBHOOK = "webhook"
CAP_DELIVERY_LOG = "delivery_log"
CAP_PHONE = "phone"
CAP_CHANGES = "changes"
CAP_IMPORT = "import"
CAP_ANALYTICS = "analytics"

CENT = Decimal("0.01")

# Modules of ``adapters`` that are codecs or generators, not adapters (see the docstring).
CODECS: tuple[str, ...] = ("adapters.orders_jsonl", "adapters.demo_data")


def money(value: object) -> Decimal:
    """Normalise any money-looking value to a two-place Decimal, refusing floats' noise."""
    if isinstance(value, float):
        value = repr(value)
    return Decimal(str(value)).quantize(CENT)


# --- errors -----------------------------------------------------------------

class StoreError(Exception):
    """Base of every error an adapter raises on purpose; ``code`` goes to API clients."""

    code = "store_error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)

    @property
    def message(self) -> str:
        return str(self)


class OrderNotFound(StoreError):
    """No order has this number."""

    code = "order_not_found"

    def __init__(self, order_no: str) -> None:
        self.order_no = order_no
        super().__init__(f"order {order_no!r} was not found")


class NotAllowed(StoreError):
    """The order's state or the store's abilities forbid this action."""

    code = "not_allowed"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class OutOfStock(StoreError):
    """No unsold card key is left for the product."""

    code = "out_of_stock"

    def __init__(self, sku: str) -> None:
        self.sku = sku
        super().__init__(f"no unsold card key left for product {sku!r}")


class StoreUnavailable(StoreError):
    """The order store cannot be reached."""

    code = "store_unavailable"


class Conflict(StoreError):
    """Someone else changed the order first; reload and retry."""

    code = "conflict"


class NotPaid(NotAllowed):
    """The order was never paid, so there is nothing to refund."""

    code = "not_paid"


class OverRefund(NotAllowed):
    """The refund would take back more than was paid minus what was already refunded."""

    code = "over_refund"


class InvalidOrder(StoreError):
    """An order record does not satisfy the order schema."""

    code = "invalid_order"


# --- domain objects ---------------------------------------------------------

@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str
    face_value: Decimal | None = None


@dataclass(frozen=True)
class Buyer:
    account: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class PaymentProof:
    channel: str
    transaction_id: str | None = None
    payer: str | None = None
    amount: Decimal | None = None
    paid_at: datetime | None = None
    proof_url: str | None = None


@dataclass(frozen=True)
class CardKey:
    serial: str
    secret: str
    status: str = "delivered"
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class OrderEvent:
    at: datetime
    kind: str
    detail: str = ""


@dataclass(frozen=True)
class Order:
    """Everything a store knows about one order; absent facts are None or empty."""

    order_no: str
    status: str
    created_at: datetime
    product: Product
    quantity: int
    amount_paid: Decimal
    currency: str = "CNY"
    face_value: Decimal | None = None
    discount: Decimal = Decimal("0.00")
    refunded_amount: Decimal = Decimal("0.00")
    paid_at: datetime | None = None
    updated_at: datetime | None = None
    buyer: Buyer = field(default_factory=Buyer)
    recipient_account: str | None = None
    buyer_ip: str | None = None
    region: str | None = None
    operator: str | None = None
    supplier: str | None = None
    payment: PaymentProof | None = None
    card_keys: tuple[CardKey, ...] = ()
    events: tuple[OrderEvent, ...] = ()
    remark: str | None = None
    tags: tuple[str, ...] = ()
    search_password: str | None = None

    def replace(self, **changes: Any) -> Order:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class OrderSummary:
    """One row of a list: enough to show and to rank, not the whole story."""

    order_no: str
    status: str
    created_at: datetime
    product_name: str
    category: str
    amount_paid: Decimal
    quantity: int = 1
    sku: str | None = None
    buyer: Buyer = field(default_factory=Buyer)
    recipient_account: str | None = None
    buyer_ip: str | None = None
    transaction_id: str | None = None


@dataclass(frozen=True)
class Page:
    items: tuple[OrderSummary, ...]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class SearchQuery:
    """Typed fragments for candidate retrieval; every filled field narrows (AND) or widens (OR keys).

    ``keys`` are tokens that may equal an order number, transaction id, phone,
    email, IP or card serial; ``substrings`` are free fragments of 3+ characters.
    """

    keys: tuple[str, ...] = ()
    phone_tails: tuple[str, ...] = ()
    substrings: tuple[str, ...] = ()
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    statuses: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    limit: int = 200
    # Filter dimensions that only *prefer* ("amount", "created", "statuses",
    # "categories"): words the customer said may be wrong, so matching orders fill
    # the bounded candidate set first but others are not excluded.  Dimensions not
    # named here (the agent's explicit filters) narrow as above.
    soft: frozenset[str] = frozenset()
    # Whole emails as the customer typed them, lower case, maybe with one slip in the
    # local part or the domain ("zhangsan@qq.con"); also in ``keys`` for stores that only
    # look emails up by equality.  A store that can, finds their one-slip neighbours too.
    emails: tuple[str, ...] = ()
    # Pieces of a card-key secret or serial, letters and digits only, upper case, 6+
    # characters ("NAB4NQ3L" for "NAB4-NQ3L" read off a screenshot).  A store that keeps
    # keys may match them anywhere inside a secret or serial, allowing one slip; stores
    # without key search ignore them.  Orders found this way carry the hit "code" (or
    # "code~" for a match with one slip).
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
    summary: OrderSummary
    hits: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Contact:
    """How a customer identifies themselves: any of these may be known."""

    account: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class OrderChange:
    """An order's status as of its latest change.  Stores that know them cheaply also say
    the product category and who fulfils it (order watching groups outages by these);
    None means "ask ``get``"."""

    order_no: str
    status: str
    at: datetime
    category: str | None = None
    supplier: str | None = None
    operator: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class ImportReport:
    loaded: int
    errors: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class RelatedCounts:
    """How many *other* orders share this order's buyer IP or buyer: the signals an agent
    reads to spot fraud (many buyers, one IP) or a repeat customer (one buyer, many orders)."""

    same_ip: int = 0
    same_buyer: int = 0


# --- the port ---------------------------------------------------------------

@runtime_checkable
class OrderStore(Protocol):
    """What the console may ask of a shop's order store.

    Actions are idempotent on ``key``: a repeated key returns the order as the
    first call left it and changes nothing.
    """

    capabilities: frozenset[str]

    def ping(self) -> None: ...
    def get(self, order_no: str) -> Order: ...
    def recent(self, offset: int = 0, limit: int = 50) -> Page: ...
    def search(self, query: SearchQuery) -> list[Candidate]: ...
    def products(self) -> list[Product]: ...
    def orders_for_customer(self, contact: Contact, limit: int = 50) -> list[OrderSummary]: ...
    def apply_edit(self, order_no: str, changes: Mapping[str, object], key: str) -> Order: ...
    def reissue(self, order_no: str, reason: str, key: str) -> Order: ...
    def refund(self, order_no: str, amount: Decimal, reason: str, key: str) -> Order: ...
    def cancel(self, order_no: str, reason: str, key: str) -> Order: ...
    def changed_since(self, cursor: str | None) -> tuple[list[OrderChange], str]: ...
    def related(self, order_no: str) -> RelatedCounts: ...
    def orders_for_ip(self, ip: str, limit: int = 50) -> list[OrderSummary]: ...
    def close(self) -> None: ...


@runtime_checkable
class OrderLoader(Protocol):
    """Stores the console can fill with orders (``kamidesk import-orders``, the demo).

    A store that offers this declares ``CAP_IMPORT``; ``loader_of`` checks both.
    ``on_batch`` hears how many orders each committed batch held (for progress bars).
    """

    def count(self) -> int: ...
    def load(self, orders: Iterable[Order], upsert: bool = True,
             on_batch: Callable[[int], None] | None = None) -> int: ...


@runtime_checkable
class JsonlLoader(Protocol):
    """Loaders that read an order JSONL file themselves, faster than line by line through
    ``load`` (the reference store parses in worker processes).  Same rules as
    ``read_jsonl`` + ``load``: bad lines are reported by number, the first occurrence of
    an order number stands, a re-run upserts.  ``on_progress`` hears the bytes read since
    its last call and the orders written so far."""

    def load_jsonl(self, path: Path,
                   on_progress: Callable[[int, int], None] | None = None) -> ImportReport: ...


@runtime_checkable
class ProductShelf(Protocol):
    """Stores whose catalogue and unsold card keys the console can stock (the demo)."""

    def add_products(self, items: Iterable[Product]) -> None: ...
    def add_inventory(self, stock: Iterable[tuple[str, CardKey]]) -> int: ...


@dataclass(frozen=True)
class OrderStatsRow:
    """Paid orders of one product, supplier or hour of day, and how many went wrong."""

    key: str
    orders: int
    after_sales: int  # had an after-sales case
    refunded: int     # refunded in full or in part


@dataclass(frozen=True)
class OrderStats:
    by_product: tuple[OrderStatsRow, ...]
    by_supplier: tuple[OrderStatsRow, ...]
    by_hour: tuple[OrderStatsRow, ...]  # key "00".."23", in the zone asked for


@runtime_checkable
class OrderAnalytics(Protocol):
    """Stores that can count orders for the shop's analytics (declare ``CAP_ANALYTICS``)."""

    def order_stats(self, start: datetime, end: datetime, utc_offset_s: int) -> OrderStats: ...
    def products_of(self, order_nos: Iterable[str]) -> dict[str, str]: ...


def analytics_of(store: OrderStore) -> OrderAnalytics:
    """The store as ``OrderAnalytics``, or ``NotAllowed`` when it cannot count orders."""
    if CAP_ANALYTICS not in store.capabilities or not isinstance(store, OrderAnalytics):
        raise NotAllowed("this order store does not offer order analytics")
    return store


def loader_of(store: OrderStore) -> OrderLoader:
    """The store as an ``OrderLoader``, or ``NotAllowed`` when it cannot be filled."""
    if CAP_IMPORT not in store.capabilities or not isinstance(store, OrderLoader):
        raise NotAllowed("this order store cannot import orders; use the reference store")
    return store


def shelf_of(store: OrderStore) -> ProductShelf:
    """The store as a ``ProductShelf``, or ``NotAllowed`` when it cannot be stocked."""
    if not isinstance(store, ProductShelf):
        raise NotAllowed("this order store cannot be stocked with products and card keys")
    return store


def summarise(order: Order) -> OrderSummary:
    """The list view of a full order, for stores that only have full reads."""
    return OrderSummary(
        order_no=order.order_no, status=order.status, created_at=order.created_at,
        product_name=order.product.name, category=order.product.category,
        amount_paid=order.amount_paid, quantity=order.quantity, sku=order.product.sku,
        buyer=order.buyer, recipient_account=order.recipient_account,
        buyer_ip=order.buyer_ip,
        transaction_id=order.payment.transaction_id if order.payment else None,
    )


def ensure_capability(store: OrderStore, capability: str, action: str) -> None:
    if capability not in store.capabilities:
        raise NotAllowed(f"this order store cannot {action}")


def masked(secret: str, keep: int = 4) -> str:
    """Show enough of a secret to match it by eye, never enough to use it."""
    if len(secret) <= keep:
        return "*" * len(secret)
    return "*" * (len(secret) - keep) + secret[-keep:]

