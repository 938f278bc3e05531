"""The live panel: who is waiting now, for how long, and which agents are taking chats."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.chat.models import Conversation
from console.chat.service import agents_overview
from console.models import utcnow


def live_queue(session: Session) -> dict:
    """Waiting = a customer message no agent has answered yet; the queue = those nobody owns."""
    now = utcnow()
    c = Conversation
    # status IN (...) rather than != "resolved": it walks ix_chat_conv_queue, not the table
    waiting = (c.status.in_(("open", "assigned")), c.waiting_since.is_not(None))
    count, oldest = session.execute(
        select(func.count(), func.min(c.waiting_since)).where(*waiting)).one()
    unassigned = session.execute(select(func.count()).where(
        *waiting, c.assignee_id.is_(None))).scalar_one()
    agents = agents_overview(session)
    online = [a for a in agents if a["presence"] == "online"]
    return {"at": now.isoformat(), "waiting": count, "unassigned": unassigned,
            "longest_wait_s": int((now - oldest).total_seconds()) if oldest else 0,
            "waiting_since": oldest.isoformat() if oldest else None,
            "agents_online": len(online),
            "load": {"active": sum(a["active"] for a in online),
                     "capacity": sum(a["limit"] for a in online)},
            "agents": agents}
