"""``kamidesk watch``: the order watcher as a foreground process, for production."""
from __future__ import annotations

import signal
import threading
from collections.abc import Callable

from console.extensions import db
from console.watching.watcher import build_watcher, socketio_emitter


def watch_foreground(app, message_queue: str | None, interval: float, once: bool,
                     say: Callable[[str], None]) -> None:
    """Tick every ``interval`` seconds until SIGINT/SIGTERM; a failed tick is reported and
    retried (the store may be down for a moment)."""
    watcher = build_watcher(app, socketio_emitter(message_queue, in_process=False))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    say(f"watching orders every {interval:g} s (outage window "
        f"{watcher.rule.window_s // 60} min); Ctrl-C stops")
    while not stop.is_set():
        with app.app_context():
            try:
                report = watcher.tick(db.session)
            except Exception as exc:
                db.session.rollback()
                say(f"watch pass failed: {exc}; retrying")
            else:
                if once or report.flagged or report.cleared or report.opened:
                    say(f"{report.changes} changes, {len(report.flagged)} newly stuck, "
                        f"{len(report.cleared)} cleared, {len(report.opened)} new incidents")
            finally:
                db.session.remove()
        if once:
            return
        stop.wait(interval)
