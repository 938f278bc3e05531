"""The order watcher: reads ``changed_since`` from the store, keeps the stuck alerts and the
incidents in the console DB, and tells connected agents.

One watcher per deployment: in-process for the demo (``start_in_process``), ``kamidesk
watch`` in production, which emits through a write-only Redis manager when
``KAMIDESK_MESSAGE_QUEUE`` is Redis (it serves no clients itself).  On start it reads the
changes of the last few hours again (the outage baseline) rather than trusting a saved
cursor: the state it needs is rebuilt, and alerts already stored are upserted, not doubled.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from adapters.base import OrderChange, OrderNotFound, OrderStore, StoreError
from console.audit import record as audit
from console.models import utcnow
from console.watching.models import Incident, IncidentOrder, StuckAlert
from console.watching.outage import Outage, OutageRule
from console.watching.presenters import alert_json, incident_json
from console.watching.rules import StuckRules
from console.watching.state import Watched, WatchState
from console.webhooks.inbox import BATCH as PUSH_BATCH
from console.webhooks.inbox import pushed_since

log = logging.getLogger(__name__)

PAGES_PER_TICK = 50  # changed_since pages (1,000 changes each on the SQL store)
AGENTS_ROOM, AGENT_NS = "agents", "/agent"

Emit = Callable[[str, dict], None]


@dataclass
class TickReport:
    changes: int = 0
    flagged: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)


def socketio_emitter(message_queue: str | None, in_process: bool) -> Emit:
    """Emits to every agent: through the app's Socket.IO server in-process, else through a
    write-only Redis manager (or nowhere, when there is no queue to reach the servers)."""
    if in_process:
        from console.extensions import socketio

        return lambda event, data: socketio.emit(event, data, namespace=AGENT_NS,
                                                 to=AGENTS_ROOM)
    if message_queue and message_queue.startswith(("redis://", "rediss://")):
        from console.chat.queue import ResilientRedisManager

        manager = ResilientRedisManager(message_queue, write_only=True)
        return lambda event, data: manager.emit(event, data, namespace=AGENT_NS,
                                                room=AGENTS_ROOM)
    log.warning("order watcher: no Redis message queue, so agents see alerts on refresh only")
    return lambda event, data: None


class Watcher:
    def __init__(self, store: OrderStore, rules: StuckRules, outage_rule: OutageRule | None = None,
                 emit: Emit | None = None) -> None:
        self.store = store
        self.state = WatchState(rules, outage_rule)
        self.emit = emit or (lambda event, data: None)
        self.cursor: str | None = None
        self.push_cursor: str | None = None  # webhook deliveries (console.webhooks.inbox)

    @property
    def rule(self) -> OutageRule:
        return self.state.detector.rule

    def start(self, session: Session, now: datetime | None = None) -> None:
        """Begin one outage baseline back, knowing the alerts already stored."""
        now = now or utcnow()
        self.cursor = (now - timedelta(seconds=self.rule.span_s)).isoformat()
        for alert in session.execute(select(StuckAlert).where(StuckAlert.cleared_at.is_(None))
                                     ).scalars():
            self.state.remember_alert(Watched(
                alert.order_no, alert.status, alert.since, alert.category, alert.supplier,
                alert.operator, alert.region, alert.threshold_s))

    def read_changes(self) -> list[OrderChange]:
        """Every change since the cursor (a bounded number of pages per tick)."""
        changes: list[OrderChange] = []
        for _ in range(PAGES_PER_TICK):
            page, cursor = self.store.changed_since(self.cursor)
            self.cursor = cursor
            changes.extend(page)
            if len(page) < 1000:
                break
        return changes

    def read_pushed(self, session: Session) -> list[OrderChange]:
        """Changes shops pushed to ``/api/webhooks/orders`` since the last tick: the same
        path as ``changed_since`` (a watcher that starts now takes pushes from now on)."""
        changes: list[OrderChange] = []
        for _ in range(PAGES_PER_TICK):
            page, self.push_cursor = pushed_since(session, self.push_cursor)
            changes.extend(page)
            if len(page) < PUSH_BATCH:
                break
        return changes

    def _with_details(self, change: OrderChange) -> OrderChange:
        """Stores that do not say the category or supplier in their changes: ask ``get``
        once per order (later changes reuse what the state remembers)."""
        if change.category is not None or change.order_no in self.state.orders:
            return change
        try:
            order = self.store.get(change.order_no)
        except (OrderNotFound, StoreError):
            return change
        return OrderChange(change.order_no, change.status, change.at, order.product.category,
                           order.supplier, order.operator, order.region)

    def tick(self, session: Session, now: datetime | None = None) -> TickReport:
        """One pass: absorb the changes, flag what fell due, raise incidents, commit."""
        if self.cursor is None:
            self.start(session, now)
        report = TickReport()
        changes = self.read_changes() + self.read_pushed(session)
        now = now or utcnow()
        report.changes = len(changes)
        for change in changes:
            absorbed = self.state.absorb(self._with_details(change))
            if absorbed.cleared:
                report.cleared.append(change.order_no)
        flagged = self.state.due(now)
        report.flagged = [w.order_no for w in flagged]
        self._store_alerts(session, flagged, report.cleared, now)
        opened = [self._raise(session, outage, now) for outage in self.state.outages(now)]
        session.commit()
        report.opened = [incident.id for incident in opened if incident is not None]
        self._announce(session, flagged, report)
        self.state.prune(now)
        return report

    def _store_alerts(self, session: Session, flagged: list[Watched], cleared: list[str],
                      now: datetime) -> None:
        if cleared:
            session.execute(update(StuckAlert).where(StuckAlert.order_no.in_(cleared),
                                                     StuckAlert.cleared_at.is_(None))
                            .values(cleared_at=now).execution_options(synchronize_session=False))
        existing = {a.order_no: a for a in session.execute(select(StuckAlert).where(
            StuckAlert.order_no.in_([w.order_no for w in flagged]))).scalars()} if flagged else {}
        for watched in flagged:
            alert = existing.get(watched.order_no) or StuckAlert(order_no=watched.order_no)
            for name, value in watched.as_alert().items():
                setattr(alert, name, value)
            alert.flagged_at, alert.cleared_at = now, None
            session.add(alert)

    def _raise(self, session: Session, outage: Outage, now: datetime) -> Incident | None:
        """Open an incident for a new outage (or refresh the open one); the new one only is
        returned.  One closed within the last window is not reopened at once."""
        found = session.execute(select(Incident).where(
            Incident.dimension == outage.dimension, Incident.value == outage.value,
            Incident.state == "open")).scalar_one_or_none()
        created = found is None
        if found is None:
            recently = session.execute(select(Incident.id).where(
                Incident.dimension == outage.dimension, Incident.value == outage.value,
                Incident.closed_at >= now - timedelta(seconds=self.rule.window_s))).first()
            if recently:
                return None
            incident = Incident(dimension=outage.dimension, value=outage.value, state="open",
                                opened_at=now)
            session.add(incident)
        else:
            incident = found
        incident.last_seen_at = now
        incident.window_orders, incident.bad_orders = outage.total, outage.bad
        incident.share, incident.baseline = outage.share, outage.baseline
        session.flush()
        known = set(session.execute(select(IncidentOrder.order_no).where(
            IncidentOrder.incident_id == incident.id)).scalars())
        for order_no in outage.orders:
            if order_no not in known:
                session.add(IncidentOrder(incident_id=incident.id, order_no=order_no,
                                          added_at=now))
        if created:
            audit("incident_opened", actor_name="watcher", incident_id=incident.id,
                  dimension=outage.dimension, value=outage.value, orders=outage.total,
                  bad=outage.bad, share=outage.share, baseline=outage.baseline)
        return incident if created else None

    def _announce(self, session: Session, flagged: list[Watched], report: TickReport) -> None:
        try:
            if flagged or report.cleared:
                self.emit("stuck_orders", {"new": [alert_json(w.as_alert()) for w in flagged],
                                           "cleared": report.cleared})
            for incident_id in report.opened:
                opened = session.get(Incident, incident_id)
                if opened is not None:
                    self.emit("incident", {"incident": incident_json(opened)})
        except Exception:  # telling clients is best effort: the DB already holds it all
            log.exception("order watcher: could not announce")


def run_forever(app, watcher: Watcher, stop: threading.Event, interval: float = 2.0) -> None:
    """Tick until ``stop`` is set; a failed tick (store down) is logged and retried."""
    from console.extensions import db

    while not stop.is_set():
        with app.app_context():
            try:
                watcher.tick(db.session)
            except Exception:
                db.session.rollback()
                log.exception("order watcher tick failed; retrying in %.0f s", interval)
            finally:
                db.session.remove()
        stop.wait(interval)


def build_watcher(app, emit: Emit | None = None) -> Watcher:
    """A watcher with the app's store and the configured thresholds and window."""
    from console.store import get_store

    with app.app_context():
        store = get_store()
    rule = OutageRule(window_s=int(app.config.get("WATCH_WINDOW_MINUTES") or 30) * 60)
    return Watcher(store, StuckRules.from_text(app.config.get("STUCK_THRESHOLDS")), rule, emit)


def start_in_process(app) -> threading.Event:
    """The demo's watcher: a daemon thread in the serving process; set the event to stop."""
    stop = threading.Event()
    watcher = build_watcher(app, socketio_emitter(None, in_process=True))
    threading.Thread(target=run_forever, args=(app, watcher, stop), name="order-watcher",
                     daemon=True).start()
    return stop
