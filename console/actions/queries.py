"""Reads for the queue pages and the order page's actions panel."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.actions.models import Action, EditRequest


def pending_edit_requests(session: Session, order_no: str | None = None) -> list[EditRequest]:
    query = select(EditRequest).where(EditRequest.state == "pending")
    if order_no:
        query = query.where(EditRequest.order_no == order_no)
    return list(session.execute(query.order_by(EditRequest.created_at)).scalars())


def pending_actions(session: Session, order_no: str | None = None) -> list[Action]:
    query = select(Action).where(Action.state == "pending_approval")
    if order_no:
        query = query.where(Action.order_no == order_no)
    return list(session.execute(query.order_by(Action.created_at)).scalars())


def order_actions(session: Session, order_no: str, limit: int = 20) -> list[Action]:
    return list(session.execute(select(Action).where(Action.order_no == order_no)
                                .order_by(Action.created_at.desc(), Action.id.desc())
                                .limit(limit)).scalars())
