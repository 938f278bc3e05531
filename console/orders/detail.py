"""The order detail screen's view model: the whole story of one order, ready to show.

One function gathers everything (order, plain-words status, timeline, proof checks,
related orders, notes, tags) from the store and the console database so the page and
the API show the same facts; ``detail_json`` is the API's rendering of it.  Nothing
here knows about HTTP: views pass the language and the clock in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from adapters.base import (
    Contact,
    NotAllowed,
    Order,
    OrderEvent,
    OrderStore,
    OrderSummary,
    RelatedCounts,
)
from console.orders.event_text import detail_text
from console.orders.explain import Explanation, category_label, explain_status, status_label
from console.orders.models import AgentNote
from console.orders.notes import notes_for
from console.orders.proof_check import ProofWarning, check_proof
from console.orders.tags import suggested_tags, tags_for
from console.orders.timeline import Timeline, build_timeline, format_duration

SUPPLIER_ANSWER_KINDS: frozenset[str] = frozenset({"supplier_answered"})
# Inline images only from the web or embedded raster data; never SVG (it can carry script).
_SAFE_IMAGE = re.compile(
    r"^(https?://[^\s\"'<>]+|data:image/(png|jpe?g|gif|webp);base64,[A-Za-z0-9+/=\s]+)$",
    re.IGNORECASE)


@dataclass(frozen=True)
class StepView:
    """One timeline step as shown: label in the agent's language, gap already worded."""

    kind: str
    label: str
    at: datetime | None
    since_previous: timedelta | None
    since_previous_text: str
    state: str
    detail: str
    current: bool


@dataclass(frozen=True)
class OrderDetail:
    """Everything the detail page and ``GET /api/orders/<no>`` show about one order."""

    order: Order
    lang: str
    status_label: str
    category_label: str
    explanation: Explanation
    timeline: Timeline
    steps: tuple[StepView, ...]
    idle_text: str
    wait_text: str
    proof_warnings: tuple[ProofWarning, ...]
    proof_image: str | None
    related: RelatedCounts | None
    buyer_search: str | None
    notes: tuple[AgentNote, ...]
    agent_tags: tuple[str, ...]
    tag_suggestions: tuple[str, ...]
    supplier_answers: tuple[OrderEvent, ...]

    @property
    def stuck(self) -> bool:
        return self.timeline.stuck

    @property
    def current_step(self) -> StepView | None:
        return next((s for s in self.steps if s.current), None)


def safe_image_url(url: str | None) -> str | None:
    """The proof image URL when it is safe to put in ``<img src>``; None otherwise."""
    if not url:
        return None
    url = url.strip()
    return url if _SAFE_IMAGE.match(url) else None


def buyer_search_text(order: Order) -> str | None:
    """What to search for to list the same buyer's orders: how the store recognises buyers."""
    buyer = order.buyer
    return buyer.phone or buyer.email or buyer.account or None


def same_buyer_orders(store: OrderStore, order: Order, limit: int = 50) -> list[OrderSummary]:
    """The buyer's other orders, newest first, found by what ``buyer_search_text`` picks.

    The contact stays on the server: the page lists the orders, not what found them."""
    buyer = order.buyer
    contact = (Contact(phone=buyer.phone) if buyer.phone else
               Contact(email=buyer.email) if buyer.email else
               Contact(account=buyer.account) if buyer.account else None)
    if contact is None:
        return []
    found = store.orders_for_customer(contact, limit=limit + 1)
    return [summary for summary in found if summary.order_no != order.order_no][:limit]


def related_counts(store: OrderStore, order_no: str) -> RelatedCounts | None:
    """Same-IP and same-buyer counts, or None for a store that cannot tell."""
    related = getattr(store, "related", None)
    if related is None:
        return None
    try:
        return related(order_no)
    except NotAllowed:
        return None


def step_views(timeline: Timeline, lang: str) -> tuple[StepView, ...]:
    return tuple(
        StepView(kind=s.kind, label=s.label(lang), at=s.at, since_previous=s.since_previous,
                 since_previous_text=(format_duration(s.since_previous, lang)
                                      if s.since_previous is not None else ""),
                 state=s.state, detail=detail_text(s.kind, s.detail, lang),
                 current=(i == timeline.current_index))
        for i, s in enumerate(timeline.steps))


def build_detail(store: OrderStore, session: Session | None, order_no: str, lang: str,
                 now: datetime | None = None) -> OrderDetail:
    """Read the order and everything agents added to it; raises OrderNotFound."""
    order = store.get(order_no)
    now = now or datetime.now(timezone.utc)
    timeline = build_timeline(order, now)
    tags = tuple(tags_for(order.order_no, session))
    wait = timeline.expected_wait_minutes
    return OrderDetail(
        order=order, lang=lang,
        status_label=status_label(order.status, lang),
        category_label=category_label(order.product.category, lang),
        explanation=explain_status(order.status, order.product.category, lang),
        timeline=timeline, steps=step_views(timeline, lang),
        idle_text=format_duration(timeline.idle_for, lang) if timeline.idle_for else "",
        wait_text=format_duration(timedelta(minutes=wait), lang) if wait else "",
        proof_warnings=tuple(check_proof(order)),
        proof_image=safe_image_url(order.payment.proof_url if order.payment else None),
        related=related_counts(store, order.order_no),
        buyer_search=buyer_search_text(order),
        notes=tuple(notes_for(order.order_no, session)),
        agent_tags=tags,
        tag_suggestions=tuple(suggested_tags(list(tags), session)),
        supplier_answers=tuple(e for e in order.events if e.kind in SUPPLIER_ANSWER_KINDS),
    )


# --- JSON ---------------------------------------------------------------------

def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()


def note_json(note: AgentNote) -> dict:
    return {"id": note.id, "body": note.body, "author": note.author_name,
            "created_at": _iso(note.created_at)}


def explanation_json(view: OrderDetail) -> dict:
    e = view.explanation
    return {"lang": view.lang, "status_label": view.status_label,
            "category_label": view.category_label, "title": e.title, "text": e.text,
            "expected_wait": e.expected_wait, "wait_minutes": e.wait_minutes,
            "next_step": e.next_step}


def timeline_json(view: OrderDetail) -> dict:
    t = view.timeline
    return {
        "steps": [{
            "kind": s.kind, "label": s.label, "at": _iso(s.at), "state": s.state,
            "current": s.current, "detail": s.detail,
            "since_previous_seconds": (int(s.since_previous.total_seconds())
                                       if s.since_previous is not None else None),
            "since_previous": s.since_previous_text or None,
        } for s in view.steps],
        "current_index": t.current_index,
        "current": view.current_step.kind if view.current_step else None,
        "stuck": t.stuck,
        "idle_seconds": int(t.idle_for.total_seconds()) if t.idle_for is not None else None,
        "expected_wait_minutes": t.expected_wait_minutes,
    }


def detail_json(view: OrderDetail, base: dict, related_links: dict[str, str | None]) -> dict:
    """``base`` is the order as ``presenters.order_json`` shows it (secrets masked); this adds
    the story around it.  ``related_links`` maps same_ip/same_buyer to search links."""
    related = None if view.related is None else {
        "same_ip": view.related.same_ip, "same_buyer": view.related.same_buyer,
        "same_ip_search": related_links.get("same_ip"),
        "same_buyer_search": related_links.get("same_buyer"),
    }
    return {
        **base,
        "explanation": explanation_json(view),
        "timeline": timeline_json(view),
        "proof_warnings": [{"code": w.code, "message": w.message(view.lang)}
                           for w in view.proof_warnings],
        "proof_image": view.proof_image,
        "related": related,
        "notes": [note_json(n) for n in view.notes],
        "agent_tags": list(view.agent_tags),
    }
