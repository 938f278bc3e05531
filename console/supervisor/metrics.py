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
so a page left open all night does not count as waiting.  Rows are read as plain tuples
(no ORM objects): the dashboard must stay fast with a hundred thousand conversations.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.chat.history import ConversationEvent
from console.chat.models import Conversation
from console.models import User, utcnow
from console.supervisor.epoch import epoch
from console.supervisor.recent import Recent, database_key
from console.supervisor.sla import Targets
from console.supervisor.stats import rate, summarise

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
MEASURES = ("first_response", "assignment", "resolution", "handle")
GROUPS = ("agent", "hour", "day")
BREACH_LIST_LIMIT = 200
CACHE_SECONDS = 15.0


@dataclass(slots=True)
class Facts:
    """One conversation reduced to what the figures need (times as epoch seconds)."""

    id: int
    opened: float
    assignee_id: int | None
    first_responder_id: int | None
    first_response_s: float | None
    assignment_s: float | None
    resolution_s: float | None
    handle_s: dict[int, float]          # agent id → seconds held while open (resolved chats)
    resolved_once: bool
    reopened: bool
    first_response_breach: bool | None  # None: still inside the target, outcome unknown
    resolution_breach: bool | None

    @property
    def opened_at(self) -> datetime:
        return datetime.fromtimestamp(self.opened, timezone.utc)


class Tally:
    """Figures accumulated for one row (overall, an agent, an hour, a day).  Plain counters
    and lists: this runs once per chat per row, tens of thousands of times a request."""

    __slots__ = ("conversations", "samples", "resolved_once", "reopened", "fr_known",
                 "fr_breached", "res_known", "res_breached", "any_known", "any_breached")

    def __init__(self) -> None:
        self.conversations = self.resolved_once = self.reopened = 0
        self.fr_known = self.fr_breached = self.res_known = self.res_breached = 0
        self.any_known = self.any_breached = 0
        self.samples: dict[str, list[float]] = {measure: [] for measure in MEASURES}

    def count_outcomes(self, facts: Facts) -> None:
        self.conversations += 1
        if facts.resolved_once:
            self.resolved_once += 1
            self.reopened += facts.reopened
        first, resolution = facts.first_response_breach, facts.resolution_breach
        if first is not None:
            self.fr_known += 1
            self.fr_breached += first
        if resolution is not None:
            self.res_known += 1
            self.res_breached += resolution
        if first or resolution:
            self.any_known += 1
            self.any_breached += 1
        elif first is not None and resolution is not None:
            self.any_known += 1

    def as_json(self) -> dict:
        figures = {measure: summarise(self.samples[measure]) for measure in MEASURES}
        sla: dict = {
            "first_response": {"count": self.fr_known, "breached": self.fr_breached,
                               "rate": rate(self.fr_breached, self.fr_known)},
            "resolution": {"count": self.res_known, "breached": self.res_breached,
                           "rate": rate(self.res_breached, self.res_known)},
            "breach_rate": rate(self.any_breached, self.any_known)}
        return {"conversations": self.conversations, **figures,
                "reopen": {"count": self.resolved_once, "reopened": self.reopened,
                           "rate": rate(self.reopened, self.resolved_once)},
                "sla": sla}


def _seconds(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return round(end - start, 3) if end > start else 0.0


def _handle_times(steps: list[tuple[str, int | None, float]], resolved: float | None,
                  assignee_id: int | None, assigned: float | None) -> dict[int, float]:
    """Seconds each agent held the chat while it was open.  Chats older than the history
    table have no steps: then the assignee held it from assignment to resolution."""
    if not steps:
        held = _seconds(assigned, resolved)
        return {assignee_id: held} if held is not None and assignee_id is not None else {}
    if len(steps) == 2 and steps[0][0] == "assigned" and steps[1][0] == "resolved":
        return {steps[0][1]: _seconds(steps[0][2], steps[1][2])}  # type: ignore[dict-item]  # most chats: taken, solved
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


def _breach(targets: Targets, target_s: int, opened: float, done: float | None,
            now: float) -> bool | None:
    if targets.hours is None:  # the common case, without a call per chat
        if done is not None:
            return done - opened > target_s
        return True if now - opened > target_s else None
    if done is not None:
        return targets.elapsed(opened, done) > target_s
    return True if targets.elapsed(opened, now) > target_s else None


_recent: Recent[list[Facts]] = Recent(CACHE_SECONDS)
_answers: Recent[dict] = Recent(CACHE_SECONDS)


def load_facts(session: Session, start: datetime, end: datetime, targets: Targets,
               now: datetime | None = None) -> list[Facts]:
    """Every conversation opened in [start, end), with its history folded in; remembered
    for ``CACHE_SECONDS`` (console/supervisor/recent.py) when ``now`` is the clock (an
    explicit ``now`` always computes)."""
    if now is not None:
        return _compute_facts(session, start, end, targets, now)
    return _recent.get((database_key(session), start, end, targets),
                       lambda: _compute_facts(session, start, end, targets, utcnow()))


def _compute_facts(session: Session, start: datetime, end: datetime, targets: Targets,
                   now: datetime) -> list[Facts]:
    """Read with Core statements on the session's connection: ORM result rows cost twice
    as much, and timestamps come as epoch numbers (console/supervisor/epoch.py)."""
    clock = now.timestamp()
    c = Conversation
    in_range = (c.opened_at >= start, c.opened_at < end)
    conn = session.connection()
    rows = conn.execute(
        select(c.id, epoch(c.opened_at), epoch(c.assigned_at), epoch(c.first_response_at),
               epoch(c.resolved_at), c.assignee_id, c.first_responder_id)
        .where(*in_range).order_by(c.opened_at)).all()
    if not rows:
        return []
    e = ConversationEvent
    ids = select(c.id).where(*in_range).scalar_subquery()
    steps: dict[int, list[tuple[str, int | None, float]]] = defaultdict(list)
    for cid, kind, agent_id, at in conn.execute(
            select(e.conversation_id, e.kind, e.agent_id, epoch(e.at))
            .where(e.conversation_id.in_(ids)).order_by(e.conversation_id, e.at, e.id)):
        steps[cid].append((kind, agent_id, at))
    first_target, resolve_target = targets.first_response_s, targets.resolution_s
    facts = []
    for cid, opened, assigned, answered, resolved, assignee, responder in rows:
        history = steps.get(cid, [])
        kinds = {kind for kind, _, _ in history} if len(history) > 2 else ()
        facts.append(Facts(
            cid, opened, assignee, responder, _seconds(opened, answered),
            _seconds(opened, assigned), _seconds(opened, resolved),
            _handle_times(history, resolved, assignee, assigned) if resolved is not None
            else {},
            resolved is not None or any(k == "resolved" for k, _, _ in history),
            "reopened" in kinds,
            _breach(targets, first_target, opened, answered, clock),
            _breach(targets, resolve_target, opened, resolved, clock)))
    return facts


def _add_whole(tally: Tally, facts: Facts) -> None:
    """A conversation counted in full: overall, per hour, per day."""
    tally.count_outcomes(facts)
    for measure, value in (("first_response", facts.first_response_s),
                           ("assignment", facts.assignment_s),
                           ("resolution", facts.resolution_s)):
        if value is not None:
            tally.samples[measure].append(value)
    if facts.handle_s:
        tally.samples["handle"].append(sum(facts.handle_s.values()))


def _by_agent(facts_list: Iterable[Facts]) -> dict[int, Tally]:
    """Each figure goes to the agent it measures: the first reply to whoever gave it,
    handle time to each holder, the rest (and the SLA) to the current assignee."""
    tallies: dict[int, Tally] = defaultdict(Tally)
    for facts in facts_list:
        if facts.first_responder_id is not None and facts.first_response_s is not None:
            tallies[facts.first_responder_id].samples["first_response"].append(
                facts.first_response_s)
        for agent_id, held in facts.handle_s.items():
            tallies[agent_id].samples["handle"].append(held)
        if facts.assignee_id is None:
            continue
        tally = tallies[facts.assignee_id]
        tally.count_outcomes(facts)
        for measure, value in (("assignment", facts.assignment_s),
                               ("resolution", facts.resolution_s)):
            if value is not None:
                tally.samples[measure].append(value)
    return tallies


def _grouped(facts_list: list[Facts], key: Callable[[Facts], Any],
             keys: Iterable[Any]) -> list[tuple[Any, Tally]]:
    tallies: dict[Any, Tally] = {k: Tally() for k in keys}
    for facts in facts_list:
        tally = tallies.get(key(facts))
        if tally is None:
            tally = tallies[key(facts)] = Tally()
        _add_whole(tally, facts)
    return list(tallies.items())


class LocalClock:
    """Hour of day and date of epoch times in ``zone``, with the zone's offset looked up
    once per hour of time rather than once per chat."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.offsets: dict[int, float] = {}

    def _local(self, epoch_s: float) -> float:
        bucket = int(epoch_s // 3600)
        offset = self.offsets.get(bucket)
        if offset is None:
            delta = datetime.fromtimestamp(bucket * 3600, self.zone).utcoffset()
            offset = self.offsets[bucket] = delta.total_seconds() if delta else 0.0
        return epoch_s + offset

    def hour(self, epoch_s: float) -> int:
        return int(self._local(epoch_s) // 3600 % 24)

    def day(self, epoch_s: float) -> date:
        return date.fromordinal(int(self._local(epoch_s) // 86400) + EPOCH_ORDINAL)


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


def response_times(session: Session, start: datetime, end: datetime, targets: Targets,
                   zone: ZoneInfo, group: str | None = None,
                   now: datetime | None = None) -> dict:
    """The figures for conversations opened in [start, end): overall, per agent, and the
    rows of ``group`` (agent, hour of day or day) when asked.  Remembered like the facts
    they come from (an explicit ``now`` always computes)."""
    if now is not None:
        return _response_times(session, start, end, targets, zone, group, now)
    return _answers.get(
        ("times", database_key(session), start, end, targets, zone.key, group),
        lambda: _response_times(session, start, end, targets, zone, group, None))


def _response_times(session: Session, start: datetime, end: datetime, targets: Targets,
                    zone: ZoneInfo, group: str | None, now: datetime | None) -> dict:
    facts_list = load_facts(session, start, end, targets, now)
    overall = Tally()
    for facts in facts_list:
        _add_whole(overall, facts)
    per_agent = _by_agent(facts_list)
    names = agent_names(session, per_agent)
    agents = [{"agent": {"id": agent_id, "name": names.get(agent_id, "?")}, **tally.as_json()}
              for agent_id, tally in sorted(per_agent.items(),
                                            key=lambda kv: names.get(kv[0], ""))]
    answer = {"from": start.isoformat(), "to": end.isoformat(),
              "conversations": len(facts_list), "overall": overall.as_json(),
              "agents": agents, "sla": {"targets": targets.as_json(), **overall.as_json()["sla"]}}
    clock = LocalClock(zone)
    if group == "agent":
        answer["rows"] = [dict(row, key=row["agent"]["id"], label=row["agent"]["name"])
                          for row in agents]
    elif group == "hour":
        rows = _grouped(facts_list, lambda f: clock.hour(f.opened), range(24))
        answer["rows"] = [{"key": hour, "label": f"{hour:02d}:00", **tally.as_json()}
                          for hour, tally in sorted(rows, key=lambda kv: kv[0])]
    elif group == "day":
        rows = _grouped(facts_list, lambda f: clock.day(f.opened), _days(start, end, zone))
        answer["rows"] = [{"key": day.isoformat(), "label": day.isoformat(), **tally.as_json()}
                          for day, tally in sorted(rows, key=lambda kv: kv[0])]
    if group:
        answer["group"] = group
    return answer


def breaches(session: Session, start: datetime, end: datetime, targets: Targets,
             now: datetime | None = None, limit: int = BREACH_LIST_LIMIT) -> dict:
    """Conversations that missed a target, newest first, for the dashboard's list."""
    if now is None:
        return _answers.get(("breaches", database_key(session), start, end, targets, limit),
                            lambda: _breaches(session, start, end, targets, None, limit))
    return _breaches(session, start, end, targets, now, limit)


def _breaches(session: Session, start: datetime, end: datetime, targets: Targets,
              now: datetime | None, limit: int) -> dict:
    facts_list = [f for f in load_facts(session, start, end, targets, now)
                  if f.first_response_breach or f.resolution_breach]
    facts_list.sort(key=lambda f: f.opened_at, reverse=True)
    shown = facts_list[:limit]
    names = agent_names(session, {f.assignee_id for f in shown if f.assignee_id})
    return {"total": len(facts_list), "targets": targets.as_json(), "breaches": [
        {"conversation_id": f.id, "opened_at": f.opened_at.isoformat(),
         "agent": names.get(f.assignee_id) if f.assignee_id else None,
         "first_response_s": f.first_response_s, "resolution_s": f.resolution_s,
         "breached": [name for name, hit in (("first_response", f.first_response_breach),
                                             ("resolution", f.resolution_breach)) if hit],
         "url": f"/inbox#c={f.id}"}
        for f in shown]}
