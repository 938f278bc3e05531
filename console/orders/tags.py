"""Agent tags on orders: add, remove, list, and find orders by tag (used by search).

Tags are short labels agents agree on (``repeat buyer``, ``suspicious``, ``agent purchase``).
They are normalised (trimmed, inner spaces collapsed, case-folded) so "Repeat  Buyer" and
"repeat buyer" are one tag and a search for either finds both.  Adding a tag twice is a
no-op, so a double click never makes two rows or two audit records.
"""
from __future__ import annotations

import unicodedata

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapters.base import OrderStore
from console import audit
from console.extensions import db
from console.models import User
from console.orders.models import TAG_MAX, AgentTag

SUGGESTED_TAGS: tuple[str, ...] = ("repeat buyer", "suspicious", "agent purchase")
# The agreed tags (and the shop's common ones) in Chinese.  A tag is stored and searched
# in one spelling whatever the agent's language; only what the page shows is translated.
TAG_LABELS_ZH: dict[str, str] = {
    "repeat buyer": "回头客", "suspicious": "可疑", "agent purchase": "代理商采购", "vip": "VIP",
}
RECENT_WINDOW = 300  # tags looked at when suggesting what colleagues use lately


class InvalidTag(ValueError):
    """The tag is empty, too long or holds control characters."""

    code = "invalid_tag"


def normalise_tag(raw: object) -> str:
    """One spelling per tag; refuse what cannot be a readable label."""
    text = " ".join(str(raw or "").split()).casefold()
    if not text:
        raise InvalidTag("a tag needs at least one visible character")
    if len(text) > TAG_MAX:
        raise InvalidTag(f"a tag is at most {TAG_MAX} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise InvalidTag("a tag cannot hold control characters")
    return text


def _session(session: Session | None) -> Session:
    return session if session is not None else db.session


def tags_for(order_no: str, session: Session | None = None) -> list[str]:
    """The order's agent tags in the order they were added."""
    rows = _session(session).execute(
        select(AgentTag.tag).where(AgentTag.order_no == order_no).order_by(AgentTag.id))
    return list(rows.scalars())


def add_tag(store: OrderStore, order_no: str, raw: object, actor: User,
            session: Session | None = None) -> list[str]:
    """Tag an existing order (OrderNotFound otherwise); audited once; returns all its tags."""
    tag = normalise_tag(raw)
    store.get(order_no)
    s = _session(session)
    if tag not in tags_for(order_no, s):
        s.add(AgentTag(order_no=order_no, tag=tag, added_by_id=actor.id,
                       added_by_name=actor.name))
        audit.record("tag_added", actor=actor, order_no=order_no, tag=tag)
        try:
            s.commit()
        except IntegrityError:  # a colleague added the same tag a moment ago
            s.rollback()
    return tags_for(order_no, s)


def remove_tag(order_no: str, raw: object, actor: User,
               session: Session | None = None) -> list[str]:
    """Untag the order (a no-op when the tag is absent); audited when it removed something."""
    tag = normalise_tag(raw)
    s = _session(session)
    gone = s.execute(delete(AgentTag).where(AgentTag.order_no == order_no,
                                            AgentTag.tag == tag)).rowcount  # type: ignore[attr-defined]  # DML: a CursorResult
    if gone:
        audit.record("tag_removed", actor=actor, order_no=order_no, tag=tag)
    s.commit()
    return tags_for(order_no, s)


def orders_tagged(tag: str, limit: int = 1000) -> list[str]:
    """Order numbers carrying ``tag`` (any spelling of it), most recently tagged first.

    An unreadable tag matches nothing rather than raising, because search passes
    whatever the agent typed.
    """
    try:
        wanted = normalise_tag(tag)
    except InvalidTag:
        return []
    rows = db.session.execute(
        select(AgentTag.order_no).where(AgentTag.tag == wanted)
        .order_by(AgentTag.created_at.desc(), AgentTag.id.desc()).limit(limit))
    return list(rows.scalars())


def suggested_tags(current: list[str], session: Session | None = None,
                   limit: int = 8) -> list[str]:
    """Tags worth one click: the agreed ones, then what colleagues used lately, minus present."""
    recent = _session(session).execute(
        select(AgentTag.tag).order_by(AgentTag.id.desc()).limit(RECENT_WINDOW)).scalars()
    counts: dict[str, int] = {}
    for tag in recent:
        counts[tag] = counts.get(tag, 0) + 1
    popular = sorted(counts, key=lambda t: (-counts[t], t))
    have = set(current)
    out: list[str] = []
    for tag in (*SUGGESTED_TAGS, *popular):
        if tag not in have and tag not in out:
            out.append(tag)
    return out[:limit]


def tag_label(tag: str, lang: str) -> str:
    """How a tag reads in ``lang``: the agreed tags in Chinese for zh_CN, others as written."""
    from console.orders.explain import EN, normalise_lang

    if normalise_lang(lang) == EN:
        return tag
    return TAG_LABELS_ZH.get(" ".join(tag.split()).casefold(), tag)


def tag_labels(tags: list[str] | tuple[str, ...], lang: str) -> dict[str, str]:
    """``{tag: label}`` for the page's script, which redraws chips after each change."""
    return {tag: tag_label(tag, lang) for tag in tags}
