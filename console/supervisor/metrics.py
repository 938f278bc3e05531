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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.chat.history import ConversationEvent
from console.chat.models import Conversation
from console.models import User, utcnow
from console.supervisor.sla import Targets
from console.supervisor.stats import rate, summarise

MEASURES = ("first_response", "assignment", "resolution", "handle")
GROUPS = ("agent", "hour", "day")
BREACH_LIST_LIMIT = 200


@dataclass
class Facts:
    """One conversation reduced to what the figures need."""

    id: int
    opened_at: datetime
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


@dataclass
class Tally:
    """Figures accumulated for one row (overall, an agent, an hour, a day)."""

    conversations: int = 0
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    resolved_once: int = 0
    reopened: int = 0
    sla_known: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    sla_breached: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    any_known: int = 0
    any_breached: int = 0

    def count_outcomes(self, facts: Facts) -> None:
        self.conversations += 1
        if facts.resolved_once:
            self.resolved_once += 1
            self.reopened += facts.reopened
        outcomes = {"first_response": facts.first_response_breach,
                    "resolution": facts.resolution_breach}
        for name, breached in outcomes.items():
            if breached is not None:
                self.sla_known[name] += 1
                self.sla_breached[name] += breached
        if any(outcomes.values()):
            self.any_known += 1
            self.any_breached += 1
        elif all(value is not None for value in outcomes.values()):
            self.any_known += 1

    def as_json(self) -> dict:
        figures = {measure: summarise(self.samples.get(measure, [])) for measure in MEASURES}
        sla = {name: {"count": self.sla_known[name], "breached": self.sla_breached[name],
                      "rate": rate(self.sla_breached[name], self.sla_known[name])}
               for name in ("first_response", "resolution")}
        sla["breach_rate"] = rate(self.any_breached, self.any_known)
        return {"conversations": self.conversations, **figures,
                "reopen": {"count": self.resolved_once, "reopened": self.reopened,
                           "rate": rate(self.reopened, self.resolved_once)},
                "sla": sla}


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def _handle_times(steps: list[tuple[str, int | None, datetime]], resolved_at: datetime | None,
                  assignee_id: int | None, assigned_at: datetime | None) -> dict[int, float]:
    """Seconds each agent held the chat while it was open.  Chats older than the history
    table have no steps: then the assignee held it from assignment to resolution."""
    if not steps:
        held = _seconds(assigned_at, resolved_at)
        return {assignee_id: held} if held is not None and assignee_id is not None else {}
    totals: dict[int, float] = defaultdict(float)
    holder, since, is_open = None, None, True
    for kind, agent_id, at in steps:
        if kind == "assigned":
            if holder is not None and is_open:
                totals[holder] += max(0.0, (at - since).total_seconds())
            holder, since = agent_id, at
        elif kind == "resolved":
            if holder is not None and is_open:
                totals[holder] += max(0.0, (at - since).total_seconds())
            is_open = False
        elif kind == "reopened":
            is_open, since = True, at
    return dict(totals)


def _breach(targets: Targets, target_s: int, opened: datetime, done: datetime | None,
            now: datetime) -> bool | None:
    if done is not None:
        return targets.elapsed(opened, done) > target_s
    return True if targets.elapsed(opened, now) > target_s else None


def load_facts(session: Session, start: datetime, end: datetime, targets: Targets,
               now: datetime | None = None) -> list[Facts]:
    """Every conversation opened in [start, end), with its history folded in."""
    now = now or utcnow()
    c = Conversation
    rows = session.execute(
        select(c.id, c.opened_at, c.assigned_at, c.first_response_at, c.resolved_at,
               c.assignee_id, c.first_responder_id)
        .where(c.opened_at >= start, c.opened_at < end).order_by(c.opened_at)).all()
    if not rows:
        return []
    e = ConversationEvent
    ids = select(c.id).where(c.opened_at >= start, c.opened_at < end).scalar_subquery()
    steps: dict[int, list[tuple[str, int | None, datetime]]] = defaultdict(list)
    for cid, kind, agent_id, at in session.execute(
            select(e.conversation_id, e.kind, e.agent_id, e.at)
            .where(e.conversation_id.in_(ids)).order_by(e.conversation_id, e.at, e.id)):
        steps[cid].append((kind, agent_id, at))
    facts = []
    for cid, opened, assigned, answered, resolved, assignee, responder in rows:
        history = steps.get(cid, [])
        kinds = {kind for kind, _, _ in history}
        resolved_once = resolved is not None or "resolved" in kinds
        facts.append(Facts(
            id=cid, opened_at=opened, assignee_id=assignee, first_responder_id=responder,
            first_response_s=_seconds(opened, answered), assignment_s=_seconds(opened, assigned),
            resolution_s=_seconds(opened, resolved),
            handle_s=_handle_times(history, resolved, assignee, assigned) if resolved else {},
            resolved_once=resolved_once, reopened="reopened" in kinds,
            first_response_breach=_breach(targets, targets.first_response_s, opened, answered,
                                          now),
            resolution_breach=_breach(targets, targets.resolution_s, opened, resolved, now)))
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


def _grouped(facts_list: list[Facts], key: Callable[[Facts], object],
             keys: Iterable[object]) -> list[tuple[object, Tally]]:
    tallies: dict[object, Tally] = {k: Tally() for k in keys}
    for facts in facts_list:
        _add_whole(tallies.setdefault(key(facts), Tally()), facts)
    return list(tallies.items())


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
    rows of ``group`` (agent, hour of day or day) when asked."""
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
    if group == "agent":
        answer["rows"] = [dict(row, key=row["agent"]["id"], label=row["agent"]["name"])
                          for row in agents]
    elif group == "hour":
        rows = _grouped(facts_list, lambda f: f.opened_at.astimezone(zone).hour, range(24))
        answer["rows"] = [{"key": hour, "label": f"{hour:02d}:00", **tally.as_json()}
                          for hour, tally in sorted(rows, key=lambda kv: kv[0])]
    elif group == "day":
        rows = _grouped(facts_list, lambda f: f.opened_at.astimezone(zone).date(),
                        _days(start, end, zone))
        answer["rows"] = [{"key": day.isoformat(), "label": day.isoformat(), **tally.as_json()}
                          for day, tally in sorted(rows, key=lambda kv: kv[0])]
    if group:
        answer["group"] = group
    return answer


def breaches(session: Session, start: datetime, end: datetime, targets: Targets,
             now: datetime | None = None, limit: int = BREACH_LIST_LIMIT) -> dict:
    """Conversations that missed a target, newest first, for the dashboard's list."""
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
