"""Response-time figures for supervisors, computed from the stored conversations and their
history (console/chat/history.py).

Definitions (also in the README and on the dashboard):

- *time to assignment* (接入): the customer's first message → the first agent owning the chat;
- *first response*: the customer's first message → the first agent reply;
- *resolution*: the customer's first message → resolved (for chats resolved now);
- *handle time*: how long agents held the chat while it was open, assignment (or reopen) →
  resolve or hand-over, summed per agent; per chat for the overall figure;
- *reopen rate*: of the chats resolved at least once, the share reopened afterwards;
- *SLA breach rate*: of the chats whose outcome is known, the share that missed the target
  (first reply later than 2 minutes, resolution later than 10, by default); a chat still
  unanswered after its target is a breach already, one still inside it is not counted yet.

Clocks start when the customer first asked (``opened_at``), not when the widget was opened,
so a page left open all night does not count as waiting.

Everything is read from the conversations' summary rows (console/chat/history.py keeps
one per chat as its events happen) through their covering ``opened_s`` index.  Counts and
SLA breaches are aggregated by the database on every request (``GROUP BY`` local day and
hour, and per agent): they depend on the clock and the targets.  Medians and p90s need
every value in order, which is costly to hand from the database to Python, so the sorted
values are kept per local day (:class:`Part`) and checked on each request against the
day's count and version sum, which the counting query returns anyway: a day whose chats
changed is read again, an unchanged one never is; the range's partial first and last
days are read each time.  Only the optional business-hours clock is computed per chat in
Python (it walks opening times).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from console.chat.history import HANDLES, SUMMARIES
from console.models import User, utcnow
from console.supervisor.buckets import EPOCH_ORDINAL, Span, spans
from console.supervisor.epoch import whole
from console.supervisor.recent import Checked, Recent, database_key
from console.supervisor.sla import Targets
from console.supervisor.stats import rate, summarise

MEASURES = ("first_response", "assignment", "resolution", "handle")
GROUPS = ("agent", "hour", "day")
BREACH_LIST_LIMIT = 200
CACHE_SECONDS = 15.0
S, H = SUMMARIES.c, HANDLES.c


class Figures:
    """The figures of one row (overall, an agent, an hour, a day)."""

    __slots__ = ("conversations", "resolved_once", "reopened", "sla", "quantiles")

    def __init__(self) -> None:
        self.conversations = self.resolved_once = self.reopened = 0
        # first response known/breached, resolution known/breached, either known/breached
        self.sla = [0, 0, 0, 0, 0, 0]
        self.quantiles: dict[str, dict] = {}

    def add(self, other: Figures) -> None:
        """Counts of another row (a day's hours into the day, say); not its quantiles."""
        self.conversations += other.conversations
        self.resolved_once += other.resolved_once
        self.reopened += other.reopened
        self.sla = [a + b for a, b in zip(self.sla, other.sla, strict=True)]

    def count_chat(self, resolved_once: int, reopens: int,
                   flags: tuple[bool | None, bool | None]) -> None:
        """One chat: counted, its reopen if it was resolved, its breach flags (None:
        still inside the target, not counted yet)."""
        self.conversations += 1
        if resolved_once:
            self.resolved_once += 1
            self.reopened += reopens > 0
        first, resolution = flags
        counts = self.sla
        if first is not None:
            counts[0] += 1
            counts[1] += first
        if resolution is not None:
            counts[2] += 1
            counts[3] += resolution
        if first or resolution:
            counts[4] += 1
            counts[5] += 1
        elif first is not None and resolution is not None:
            counts[4] += 1

    def as_json(self) -> dict:
        fr_known, fr_breached, res_known, res_breached, any_known, any_breached = self.sla
        sla: dict = {
            "first_response": {"count": fr_known, "breached": fr_breached,
                               "rate": rate(fr_breached, fr_known)},
            "resolution": {"count": res_known, "breached": res_breached,
                           "rate": rate(res_breached, res_known)},
            "breach_rate": rate(any_breached, any_known)}
        figures = {m: self.quantiles.get(m) or summarise([]) for m in MEASURES}
        return {"conversations": self.conversations, **figures,
                "reopen": {"count": self.resolved_once, "reopened": self.reopened,
                           "rate": rate(self.reopened, self.resolved_once)},
                "sla": sla}


# --- SQL pieces -------------------------------------------------------------------------

def _span(start, end) -> ColumnElement:
    """Seconds from ``start`` to ``end`` (0 when out of order; NULL when either is)."""
    return case((or_(start.is_(None), end.is_(None)), null()), (end > start, end - start),
                else_=literal(0.0, Float))


VALUES: dict[str, ColumnElement] = {
    "first_response": _span(S.opened_s, S.first_response_s),
    "assignment": _span(S.opened_s, S.assigned_s),
    "resolution": _span(S.opened_s, S.resolved_s),
    "handle": S.handle_s,
}


def _flag(done, target_s: int, now: float) -> ColumnElement:
    """1 breached, 0 met, NULL still inside the target (wall-clock SLA)."""
    return case((and_(done.is_not(None), done - S.opened_s > target_s), 1),
                (done.is_not(None), 0),
                (literal(now, Float) - S.opened_s > target_s, 1), else_=null())


def _in_range(start: datetime, end: datetime) -> tuple[ColumnElement, ...]:
    return (S.opened_s >= start.timestamp(), S.opened_s < end.timestamp())


def _local(zone: ZoneInfo, start: datetime, end: datetime) -> ColumnElement:
    """``opened_s`` on the zone's wall clock: the zone's offset taken at the start of each
    hour, as a CASE over the hours of [start, end) where it changes (none, mostly)."""
    first, last = int(start.timestamp() // 3600), int(end.timestamp() // 3600) + 1
    segments: list[tuple[int, float]] = []
    for bucket in range(first, min(last, first + 24 * 400) + 1):
        delta = datetime.fromtimestamp(bucket * 3600, zone).utcoffset()
        offset = delta.total_seconds() if delta else 0.0
        if not segments or segments[-1][1] != offset:
            segments.append((bucket * 3600, offset))
    if len(segments) == 1:
        return S.opened_s + segments[0][1]
    return S.opened_s + case(*[(S.opened_s < begins, earlier) for (_, earlier), (begins, _)
                               in zip(segments, segments[1:], strict=False)],
                             else_=segments[-1][1])


def _hour_key(zone: ZoneInfo, start: datetime, end: datetime) -> ColumnElement:
    return whole(_local(zone, start, end) / 3600) % 24


def _day_key(zone: ZoneInfo, start: datetime, end: datetime) -> ColumnElement:
    return whole(_local(zone, start, end) / 86400)


# --- the figures of a local day, kept while its chats stay the same ---------------------

Keyed = dict[str, dict[Any, list[float]]]  # measure → row key → sorted values
ROWS = ("overall", "hour", "agent")


@dataclass(slots=True)
class Part:
    """The chats opened in [start, end) of local day ``day`` (the whole day, or the part
    of it inside a range), counted and with every measure's values sorted, under each
    kind of row: ``overall`` (key 0), ``hour`` (local hour) and ``agent`` (the first
    reply goes to whoever gave it, handle time to each holder, the rest and the counts to
    the assignee).  ``settled``: no chat's breach can change any more as the clock moves on
from ``as_of``."""

    day: int
    as_of: float  # the clock it was counted at
    settled: bool = True
    counts: dict[str, dict[Any, Figures]] = field(
        default_factory=lambda: {row: defaultdict(Figures) for row in ROWS})
    values: dict[str, Keyed] = field(default_factory=lambda: {
        row: defaultdict(lambda: defaultdict(list)) for row in ROWS})


def _flags(targets: Targets, opened: float, answered: float | None,
           resolved: float | None, now: float) -> tuple[bool | None, bool | None]:
    if targets.hours is None:  # the common case, without a call per chat
        return ((answered - opened > targets.first_response_s) if answered is not None
                else (True if now - opened > targets.first_response_s else None),
                (resolved - opened > targets.resolution_s) if resolved is not None
                else (True if now - opened > targets.resolution_s else None))
    return (_breach(targets, targets.first_response_s, opened, answered, now),
            _breach(targets, targets.resolution_s, opened, resolved, now))


def _read_part(conn: Connection, day: int, start: float, end: float, hour: ColumnElement,
               targets: Targets, now: float) -> Part:
    part = Part(day, now)
    in_part = (S.opened_s >= start, S.opened_s < end)
    counts, values = part.counts, part.values
    for (at_hour, opened, answered, resolved, assignee, responder, once, reopens,
         first, assigned, resolution, handle) in conn.execute(
            select(hour, S.opened_s, S.first_response_s, S.resolved_s, S.assignee_id,
                   S.first_responder_id, S.resolved_once, S.reopens,
                   *(VALUES[m] for m in MEASURES)).where(*in_part)):
        flags = _flags(targets, opened, answered, resolved, now)
        part.settled = part.settled and None not in flags
        rows = (("overall", 0), ("hour", at_hour)) + \
            ((("agent", assignee),) if assignee is not None else ())
        for row, key in rows:
            counts[row][key].count_chat(once, reopens, flags)
        for measure, value in (("first_response", first), ("assignment", assigned),
                               ("resolution", resolution), ("handle", handle)):
            if value is None:
                continue
            values["overall"][measure][0].append(value)
            values["hour"][measure][at_hour].append(value)
            agent = responder if measure == "first_response" else assignee
            if agent is not None and measure != "handle":
                values["agent"][measure][agent].append(value)
    held = values["agent"]["handle"]
    for agent, seconds in conn.execute(
            select(H.agent_id, H.seconds)
            .join_from(HANDLES, SUMMARIES, S.conversation_id == H.conversation_id)
            .where(*in_part)):
        held[agent].append(seconds)
    for by_measure in values.values():
        for by_key in by_measure.values():
            for listed in by_key.values():
                listed.sort()
    return part


_parts: Checked[Part] = Checked()


def _parts_of(conn: Connection, start: datetime, end: datetime, zone: ZoneInfo,
              targets: Targets, now: float, database: Hashable) -> list[Part]:
    """The range's parts (console/supervisor/buckets.py): whole days and hours are kept
    while their count and version sum (one covering-index scan, grouped by local hour)
    stay the same and no breach can still come with the clock; cut hours are read each
    time."""
    hour_of_day = _hour_key(zone, start, end)
    checks: dict[tuple[str, int], tuple[int, int]] = {}
    for hour, n, version in conn.execute(
            select(whole(_local(zone, start, end) / 3600).label("h"), func.count(),
                   func.sum(S.version)).where(*_in_range(start, end)).group_by("h")):
        for key in (("hour", int(hour)), ("day", int(hour) // 24)):
            had = checks.get(key, (0, 0))
            checks[key] = (had[0] + n, had[1] + int(version or 0))
    parts: list[Part] = []
    for span in spans(start.timestamp(), end.timestamp(), zone):
        def read(span: Span = span) -> Part:
            return _read_part(conn, span.day, span.start, span.end, hour_of_day, targets, now)
        check = checks.get((span.kind, span.number))
        if not span.whole:
            parts.append(read())
        elif check is not None:  # else nobody asked for help then
            part = _parts.get((database, zone.key, targets, span.kind, span.number), check,
                              read, keep=lambda part: part.settled)
            # settled means for every later clock; an earlier one (a test's) reads again
            parts.append(part if part.as_of <= now else read())
    return parts


def _rows(parts: list[Part], row: str, keys: Iterable[Any] = ()) -> dict[Any, Figures]:
    """One kind of row pooled over ``parts``: counts added, values merged into medians and
    p90s; ``keys`` are always there (empty hours, say)."""
    found: dict[Any, Figures] = {key: Figures() for key in keys}
    for part in parts:
        for key, counted in part.counts[row].items():
            found.setdefault(key, Figures()).add(counted)
    for measure in MEASURES:
        pieces = [part.values[row][measure] for part in parts if measure in part.values[row]]
        for key in {key for piece in pieces for key in piece}:
            merged: list[float] = []
            for piece in pieces:
                merged.extend(piece.get(key, ()))
            # sorted runs: the sort only merges them
            found.setdefault(key, Figures()).quantiles[measure] = summarise(merged)
    return found


def _breach(targets: Targets, target_s: int, opened: float, done: float | None,
            now: float) -> bool | None:
    """One chat's breach on the business-hours clock (None: inside the target yet)."""
    if done is not None:
        return targets.elapsed(opened, done) > target_s
    return True if targets.elapsed(opened, now) > target_s else None


def _days(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    span = (last - first).days
    return [first + timedelta(days=n) for n in range(min(span, 366) + 1)]


def agent_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    ids = list(ids)
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


_answers: Recent[dict] = Recent(CACHE_SECONDS)


def response_times(session: Session, start: datetime, end: datetime, targets: Targets,
                   zone: ZoneInfo, group: str | None = None,
                   now: datetime | None = None) -> dict:
    """The figures for conversations opened in [start, end): overall, per agent, and the
    rows of ``group`` (agent, hour of day or day) when asked.  Remembered for
    ``CACHE_SECONDS`` (console/supervisor/recent.py) when ``now`` is the clock (an explicit
    ``now`` always computes)."""
    if now is not None:
        return _response_times(session, start, end, targets, zone, group, now)
    return _answers.get(
        ("times", database_key(session), start, end, targets, zone.key, group),
        lambda: _response_times(session, start, end, targets, zone, group, utcnow()))


def _response_times(session: Session, start: datetime, end: datetime, targets: Targets,
                    zone: ZoneInfo, group: str | None, now: datetime) -> dict:
    parts = _parts_of(session.connection(), start, end, zone, targets, now.timestamp(),
                      database_key(session))
    overall = _rows(parts, "overall", [0])[0]
    per_agent = _rows(parts, "agent")
    names = agent_names(session, per_agent)
    agents = [{"agent": {"id": agent_id, "name": names.get(agent_id, "?")}, **row.as_json()}
              for agent_id, row in sorted(per_agent.items(),
                                          key=lambda kv: names.get(kv[0], ""))]
    summary = overall.as_json()
    answer = {"from": start.isoformat(), "to": end.isoformat(),
              "conversations": overall.conversations, "overall": summary,
              "agents": agents, "sla": {"targets": targets.as_json(), **summary["sla"]}}
    if group == "agent":
        answer["rows"] = [dict(row, key=row["agent"]["id"], label=row["agent"]["name"])
                          for row in agents]
    elif group == "hour":
        hours = _rows(parts, "hour", range(24))
        answer["rows"] = [{"key": hour, "label": f"{hour:02d}:00", **hours[hour].as_json()}
                          for hour in range(24)]
    elif group == "day":
        days: dict[date, Figures] = {day: Figures() for day in _days(start, end, zone)}
        for day in {part.day for part in parts}:
            days[date.fromordinal(day + EPOCH_ORDINAL)] = _rows(
                [part for part in parts if part.day == day], "overall", [0])[0]
        answer["rows"] = [{"key": day.isoformat(), "label": day.isoformat(),
                           **days[day].as_json()} for day in sorted(days)]
    if group:
        answer["group"] = group
    return answer


def breaches(session: Session, start: datetime, end: datetime, targets: Targets,
             now: datetime | None = None, limit: int = BREACH_LIST_LIMIT) -> dict:
    """Conversations that missed a target, newest first, for the dashboard's list."""
    if now is None:
        return _answers.get(("breaches", database_key(session), start, end, targets, limit),
                            lambda: _breaches(session, start, end, targets, utcnow(), limit))
    return _breaches(session, start, end, targets, now, limit)


def _breached_rows(conn: Connection, start: datetime, end: datetime, targets: Targets,
                   now: float, limit: int) -> tuple[int, list[tuple]]:
    """How many chats of the range breached, and the newest ``limit`` of them as
    (id, opened, assignee, answered, resolved, first breached, resolution breached)."""
    where = _in_range(start, end)
    columns = (S.conversation_id, S.opened_s, S.assignee_id, S.first_response_s,
               S.resolved_s)
    if targets.hours is not None:
        flagged = [(*row, _breach(targets, targets.first_response_s, row[1], row[3], now),
                    _breach(targets, targets.resolution_s, row[1], row[4], now))
                   for row in conn.execute(select(*columns).where(*where))]
        hits = sorted((row for row in flagged if row[5] or row[6]),
                      key=lambda row: (row[1], row[0]), reverse=True)
        return len(hits), hits[:limit]
    facts = select(*columns,
                   _flag(S.first_response_s, targets.first_response_s, now).label("fr"),
                   _flag(S.resolved_s, targets.resolution_s, now).label("res")) \
        .where(*where).subquery("facts")
    hit = or_(facts.c.fr == 1, facts.c.res == 1)
    total = conn.execute(select(func.count()).select_from(facts).where(hit)).scalar_one()
    shown = conn.execute(select(facts).where(hit)
                         .order_by(facts.c.opened_s.desc(), facts.c.conversation_id.desc())
                         .limit(limit)).all()
    return total, [(*row[:5], bool(row[5]), bool(row[6])) for row in shown]


def _seconds(start: float, end: float | None) -> float | None:
    if end is None:
        return None
    return round(end - start, 3) if end > start else 0.0


def _breaches(session: Session, start: datetime, end: datetime, targets: Targets,
              now: datetime, limit: int) -> dict:
    total, shown = _breached_rows(session.connection(), start, end, targets,
                                  now.timestamp(), limit)
    names = agent_names(session, {row[2] for row in shown if row[2]})
    return {"total": total, "targets": targets.as_json(), "breaches": [
        {"conversation_id": cid,
         "opened_at": datetime.fromtimestamp(opened, timezone.utc).isoformat(),
         "agent": names.get(assignee) if assignee else None,
         "first_response_s": _seconds(opened, answered),
         "resolution_s": _seconds(opened, resolved),
         "breached": [name for name, hit in (("first_response", first_hit),
                                             ("resolution", resolution_hit)) if hit],
         "url": f"/inbox#c={cid}"}
        for cid, opened, assignee, answered, resolved, first_hit, resolution_hit in shown]}
