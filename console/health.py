"""``/healthz``: can the console reach its database, its order store and its queue?"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from console.extensions import db
from console.store import get_store

bp = Blueprint("health", __name__)


def _check(probe) -> dict:
    try:
        probe()
        return {"ok": True}
    except Exception as exc:  # any failure is a health answer, not a crash
        return {"ok": False, "error": str(exc).splitlines()[0][:300]}


def _queue_probe() -> None:
    url = current_app.config.get("MESSAGE_QUEUE")
    if not url:
        return
    import redis
    redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()


@bp.get("/healthz")
def healthz():
    """200 when every part answers, 503 naming the part that does not."""
    checks = {
        "console_db": _check(lambda: db.session.execute(text("SELECT 1"))),
        "store": _check(lambda: get_store().ping()),
        "queue": _check(_queue_probe) | {"configured": bool(current_app.config.get("MESSAGE_QUEUE"))},
    }
    ok = all(c["ok"] for c in checks.values())
    return jsonify(status="ok" if ok else "unavailable", checks=checks), 200 if ok else 503
