"""Order analytics for the shop: after-sales and refund rates by product and supplier, the
busiest hours, and the products customers open chats about most."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.base import CAP_ANALYTICS, OrderStatsRow, OrderStore, analytics_of
from console.chat.models import Conversation, ConversationOrder
from console.supervisor.recent import Recent, database_key
from console.supervisor.stats import rate

TOP_TICKETS = 20
CACHE_SECONDS = 60.0
_recent: Recent[dict] = Recent(CACHE_SECONDS)


def _row(row: OrderStatsRow) -> dict:
    return {"key": row.key, "orders": row.orders, "after_sales": row.after_sales,
            "after_sales_rate": rate(row.after_sales, row.orders), "refunded": row.refunded,
            "refund_rate": rate(row.refunded, row.orders)}


def tickets_by_product(session: Session, store: OrderStore, start: datetime,
                       end: datetime) -> list[dict]:
    """Chats opened in [start, end) per product of the orders linked to them."""
    links = session.connection().execute(
        select(ConversationOrder.conversation_id, ConversationOrder.order_no)
        .join(Conversation, Conversation.id == ConversationOrder.conversation_id)
        .where(Conversation.opened_at >= start, Conversation.opened_at < end)).all()
    if not links:
        return []
    names = analytics_of(store).products_of(order_no for _, order_no in links)
    chats = Counter(name for _, name in {(cid, names[o]) for cid, o in links if o in names})
    return [{"key": name, "tickets": n} for name, n in chats.most_common(TOP_TICKETS)]


def shop_analytics(session: Session, store: OrderStore, start: datetime, end: datetime,
                   zone: ZoneInfo) -> dict:
    """Every table of the analytics panel, remembered for ``CACHE_SECONDS`` per range (it
    scans every order of the range; a minute-old answer is fine for planning)."""
    return _recent.get((id(store), str(getattr(store, "url", "")), database_key(session),
                        start, end, zone.key),
                       lambda: _compute(session, store, start, end, zone))


def _compute(session: Session, store: OrderStore, start: datetime, end: datetime,
             zone: ZoneInfo) -> dict:
    """``available`` False for stores that cannot count orders (the tables are then empty)."""
    answer: dict = {"from": start.isoformat(), "to": end.isoformat(),
                    "available": CAP_ANALYTICS in store.capabilities}
    if not answer["available"]:
        return dict(answer, products=[], suppliers=[], hours=[], tickets=[])
    offset = int((end.astimezone(zone).utcoffset() or timedelta(0)).total_seconds())
    stats = analytics_of(store).order_stats(start, end, offset)
    return dict(answer, products=[_row(r) for r in stats.by_product],
                suppliers=[_row(r) for r in stats.by_supplier],
                hours=[_row(r) for r in stats.by_hour],
                tickets=tickets_by_product(session, store, start, end))
