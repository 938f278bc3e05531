"""What happened to a conversation, one row per step (assigned, resolved, reopened), and
one summary row per conversation with everything the supervisors' figures read.

The conversation row keeps only its latest state (a reopen clears ``resolved_at``), so the
figures that need the past, reopen rate and each agent's handle time, come from the steps.
Folding every chat's steps on every dashboard request cost seconds with a hundred thousand
chats, so :func:`write` folds them once, as they happen: after writing the steps it
recomputes the conversation's :class:`ConversationSummary` (times as epoch seconds, the
handle time, how often it was resolved and reopened) and its :class:`HandleTime` rows (the
seconds each agent held it), in the same transaction.  The dashboard then aggregates
summary rows in SQL through their ``opened_s`` index (console/supervisor/metrics.py).
:func:`backfill` gives conversations written before the summary existed (or by tools
writing rows directly) their summary; the schema code runs it at start-up.
"""
from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from console.chat.models import Conversation
from console.extensions import db
from console.models import UtcDateTime

EVENT_KINDS = ("assigned", "resolved", "reopened")
BACKFILL_BATCH = 2000
BACKFILL_RETRIES = 20
Step = tuple[str, int | None, float]  # kind, agent id, epoch seconds


class ConversationEvent(db.Model):
    __tablename__ = "chat_conversation_events"
    __table_args__ = (Index("ix_chat_event_conv", "conversation_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("chat_conversations.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # assigned: the new assignee; resolved/reopened: who did it (None for the customer)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConversationSummary(db.Model):
    """One conversation as the figures see it; times are epoch seconds (plain numbers the
    database can subtract and bucket on every backend)."""

    __tablename__ = "chat_conversation_summaries"
    # covering: the dashboard's grouped counts read the index alone, in time order
    __table_args__ = (Index("ix_chat_summary_opened", "opened_s", "first_response_s",
                            "assigned_s", "resolved_s", "assignee_id", "resolved_once",
                            "reopens", "version"),)

    conversation_id: Mapped[int] = mapped_column(ForeignKey("chat_conversations.id"),
                                                 primary_key=True)
    opened_s: Mapped[float | None] = mapped_column(Float)        # the customer first asked
    assigned_s: Mapped[float | None] = mapped_column(Float)      # the first agent owned it
    first_response_s: Mapped[float | None] = mapped_column(Float)  # the first agent reply
    resolved_s: Mapped[float | None] = mapped_column(Float)      # resolved now (None: open)
    assignee_id: Mapped[int | None] = mapped_column(Integer)
    first_responder_id: Mapped[int | None] = mapped_column(Integer)
    # seconds agents held it while open, summed; None unless resolved now and held
    handle_s: Mapped[float | None] = mapped_column(Float)
    resolved_once: Mapped[int] = mapped_column(Integer, default=0)  # 1: resolved at least once
    reopens: Mapped[int] = mapped_column(Integer, default=0)
    # +1 at every rewrite: the dashboard's per-day memory checks count and sum per day
    version: Mapped[int] = mapped_column(Integer, default=1)


class HandleTime(db.Model):
    """Seconds one agent held one (resolved) conversation while it was open."""

    __tablename__ = "chat_conversation_handles"
    __table_args__ = (Index("ix_chat_handle_agent", "agent_id"),)

    conversation_id: Mapped[int] = mapped_column(ForeignKey("chat_conversations.id"),
                                                 primary_key=True)
    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seconds: Mapped[float] = mapped_column(Float)


SUMMARIES = ConversationSummary.__table__
HANDLES = HandleTime.__table__
_C = Conversation.__table__
_E = ConversationEvent.__table__
_CONVERSATION_COLUMNS = (_C.c.id, _C.c.opened_at, _C.c.assigned_at, _C.c.first_response_at,
                         _C.c.resolved_at, _C.c.assignee_id, _C.c.first_responder_id)
# what a message can change on its conversation that the summary copies
SUMMARY_FIELDS = ("opened_at", "assigned_at", "first_response_at", "resolved_at",
                  "assignee_id", "first_responder_id")


def event(conversation_id: int, kind: str, agent_id: int | None, at: datetime) -> dict:
    """One event as plain values, for callers that write with SQL statements."""
    return {"conversation_id": conversation_id, "kind": kind, "agent_id": agent_id, "at": at}


def write(target: Session | Connection, events: list[dict],
          changed: Iterable[int] = ()) -> None:
    """Insert ``events`` in the caller's transaction (a Session or a Connection), then bring
    the summary of their conversations, and of ``changed`` ones (whose times moved without
    a step, e.g. the first reply), up to date."""
    if events:
        target.execute(insert(_E), events)
    touched = {e["conversation_id"] for e in events} | set(changed)
    if touched:
        if isinstance(target, Connection):
            refresh(target, touched)
        else:  # a Session (or the scoped one): its pending changes are what the summary reads
            target.flush()
            refresh(target.connection(), touched)


# --- folding steps into a summary ------------------------------------------------------

def _epoch(at: datetime | None) -> float | None:
    return at.timestamp() if at is not None else None


def _seconds(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return round(end - start, 3) if end > start else 0.0


def handle_times(steps: list[Step], resolved: float | None, assignee_id: int | None,
                 assigned: float | None) -> dict[int, float]:
    """Seconds each agent held the chat while it was open (resolved chats).  Chats older
    than the history table have no steps: then the assignee held it from assignment to
    resolution."""
    if not steps:
        held = _seconds(assigned, resolved)
        return {assignee_id: held} if held is not None and assignee_id is not None else {}
    totals: dict[int, float] = defaultdict(float)
    holder, since, is_open = None, 0.0, True
    for kind, agent_id, at in steps:
        if kind == "assigned":
            if holder is not None and is_open:
                totals[holder] += max(0.0, at - since)
            holder, since = agent_id, at
        elif kind == "resolved":
            if holder is not None and is_open:
                totals[holder] += max(0.0, at - since)
            is_open = False
        elif kind == "reopened":
            is_open, since = True, at
    return {agent: round(held, 3) for agent, held in totals.items()}


def fold(row, steps: list[Step]) -> tuple[dict, dict[int, float]]:
    """A conversation row (``_CONVERSATION_COLUMNS``) and its steps in time order → its
    summary values and its handle times."""
    cid, opened, assigned, answered, resolved, assignee, responder = row
    resolved_s = _epoch(resolved)
    handles = handle_times(steps, resolved_s, assignee, _epoch(assigned)) \
        if resolved_s is not None else {}
    summary = {"conversation_id": cid, "opened_s": _epoch(opened),
               "assigned_s": _epoch(assigned), "first_response_s": _epoch(answered),
               "resolved_s": resolved_s, "assignee_id": assignee,
               "first_responder_id": responder,
               "handle_s": round(sum(handles.values()), 3) if handles else None,
               "resolved_once": int(resolved_s is not None
                                    or any(kind == "resolved" for kind, _, _ in steps)),
               "reopens": sum(kind == "reopened" for kind, _, _ in steps), "version": 1}
    return summary, handles


def _steps_of(conn: Connection, ids: list[int]) -> dict[int, list[Step]]:
    steps: dict[int, list[Step]] = defaultdict(list)
    for cid, kind, agent_id, at in conn.execute(
            select(_E.c.conversation_id, _E.c.kind, _E.c.agent_id, _E.c.at)
            .where(_E.c.conversation_id.in_(ids))
            .order_by(_E.c.conversation_id, _E.c.at, _E.c.id)):
        steps[cid].append((kind, agent_id, at.timestamp()))
    return steps


def _write_folded(conn: Connection, ids: list[int], replace: bool) -> int:
    """Fold conversations ``ids`` and store their summaries and handle times.  With
    ``replace`` False a summary already there is kept (with its handle times); returns how
    many summaries were written."""
    rows = conn.execute(select(*_CONVERSATION_COLUMNS).where(_C.c.id.in_(ids))
                        .order_by(_C.c.id)).all()
    if not rows:
        return 0
    steps = _steps_of(conn, ids)
    folded = {row[0]: fold(row, steps.get(row[0], [])) for row in rows}
    statement = (sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert)(SUMMARIES)
    keys = [SUMMARIES.c.conversation_id]
    if replace:
        statement = statement.on_conflict_do_update(index_elements=keys, set_={
            **{column.name: statement.excluded[column.name] for column in SUMMARIES.c
               if column.name not in ("conversation_id", "version")},
            "version": SUMMARIES.c.version + 1})
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    written = conn.execute(statement.returning(SUMMARIES.c.conversation_id),
                           [summary for summary, _ in folded.values()]).scalars().all()
    conn.execute(delete(HANDLES).where(HANDLES.c.conversation_id.in_(written)))
    handles = [{"conversation_id": cid, "agent_id": agent, "seconds": seconds}
               for cid in written for agent, seconds in folded[cid][1].items()]
    if handles:
        conn.execute(insert(HANDLES), handles)
    return len(written)


def refresh(conn: Connection, ids: Iterable[int]) -> None:
    """Recompute the summaries and handle times of conversations ``ids``."""
    _write_folded(conn, sorted(ids), replace=True)


def backfill(engine: Engine) -> int:
    """Summaries for conversations that have none (rows older than the summary table, or
    written directly by a tool), in batches, each its own transaction.  Safe when several
    processes start at once: a summary another wrote first is kept, and a batch that lost
    a race for the database is tried again.  Returns how many were written."""
    written, after, retries = 0, 0, 0
    missing = ~select(SUMMARIES.c.conversation_id).where(
        SUMMARIES.c.conversation_id == _C.c.id).exists()
    while True:
        try:
            with engine.begin() as conn:
                batch = conn.execute(select(_C.c.id).where(_C.c.id > after, missing)
                                     .order_by(_C.c.id).limit(BACKFILL_BATCH)).scalars().all()
                if not batch:
                    return written
                written += _write_folded(conn, list(batch), replace=False)
        except (OperationalError, IntegrityError):
            retries += 1
            if retries > BACKFILL_RETRIES:
                raise
            time.sleep(0.05 * retries)
            continue
        after = batch[-1]
