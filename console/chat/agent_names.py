"""Agents' display names for queue rows, remembered for a minute.

Every chat message re-sends its conversation's queue row, and the row names the assignee:
reading the users table for that was one query per message, 7% of a chat worker's time
under the benchmark.  Names change rarely, and a rename that shows in queue rows within a
minute is soon enough.  Kept per app, so tests with several apps never mix their users.
"""
from __future__ import annotations

import time

from flask import current_app

from console.extensions import db
from console.models import User

TTL_SECONDS = 60.0


def agent_name(user_id: int | None) -> str | None:
    """The display name of ``user_id``; None for nobody or a user that no longer exists."""
    if user_id is None:
        return None
    names: dict = current_app.extensions.setdefault("kamidesk.agent_names", {})
    now = time.monotonic()
    cached = names.get(user_id)
    if cached is not None and now - cached[0] < TTL_SECONDS:
        return cached[1]
    user = db.session.get(User, user_id)
    name = user.name if user is not None else None
    names[user_id] = (now, name)
    return name
