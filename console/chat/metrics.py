"""Response-time figures for supervisors: how long customers wait for a first answer, for an
agent to own their chat, and for it to be resolved.

Clocks start when the customer first asked (``opened_at``), not when the widget was
opened, so a page left open all night does not count as waiting.  Percentiles interpolate
linearly between ranks (the same as numpy's default), so small samples still give a value.
"""
from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.chat.models import Conversation
from console.models import User

MEASURES = ("first_response", "assignment", "resolution")


def percentile(values: list[float], fraction: float) -> float | None:
    """The ``fraction`` quantile (0..1) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return round(value, 1)


def summarise(values: list[float]) -> dict:
    return {"count": len(values), "median": percentile(values, 0.5),
            "p90": percentile(values, 0.9)}


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def response_times(session: Session, start: datetime, end: datetime) -> dict:
    """Figures for conversations opened in [start, end), overall and per agent."""
    rows = session.execute(select(Conversation).where(
        Conversation.opened_at >= start, Conversation.opened_at < end)).scalars().all()
    overall: dict[str, list[float]] = defaultdict(list)
    per_agent: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for conversation in rows:
        samples = (
            ("first_response", conversation.first_responder_id,
             _seconds(conversation.opened_at, conversation.first_response_at)),
            ("assignment", conversation.assignee_id,
             _seconds(conversation.opened_at, conversation.assigned_at)),
            ("resolution", conversation.assignee_id,
             _seconds(conversation.opened_at, conversation.resolved_at)),
        )
        for measure, agent_id, value in samples:
            if value is None:
                continue
            overall[measure].append(value)
            if agent_id is not None:
                per_agent[agent_id][measure].append(value)
    names = dict(session.execute(select(User.id, User.name).where(
        User.id.in_(list(per_agent)))).all()) if per_agent else {}
    agents = [
        {"agent": {"id": agent_id, "name": names.get(agent_id, "?")},
         **{measure: summarise(values.get(measure, [])) for measure in MEASURES}}
        for agent_id, values in sorted(per_agent.items(), key=lambda kv: names.get(kv[0], ""))
    ]
    return {"from": start.isoformat(), "to": end.isoformat(), "conversations": len(rows),
            "overall": {measure: summarise(overall.get(measure, [])) for measure in MEASURES},
            "agents": agents}
