"""Sign-in sessions: a new one on every login, an idle lifetime, sign-out that ends them
all, and a recent password for money-moving actions and reveals.

The session cookie keeps ``seen`` (last request, Unix seconds) and ``auth_at`` (when the
password was last typed).  A session idle longer than ``IDLE_MINUTES`` is dropped; a
"keep me signed in" cookie may then sign the agent back in, but such a sign-in is not
fresh: refunds, reissues, cancels, approvals and reveals ask for the password again
(``REAUTH_MINUTES``).  Bearer-token callers have no password to repeat and are exempt.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from flask import Flask, current_app, g, session
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from console.auth.models import end_all_sessions
from console.errors import ApiError
from console.extensions import db
from console.models import User

SEEN, AUTH_AT = "seen", "auth_at"
KEPT_ACROSS_LOGIN = ("lang",)
SEEN_RESOLUTION = 30  # seconds: how stale ``seen`` may get before the cookie is rewritten


def start_session(user: User, remember: bool) -> None:
    """A brand-new session (nothing of the signed-out one survives but the language, and
    its CSRF token is new), signed in with the password just checked."""
    kept = {name: session[name] for name in KEPT_ACROSS_LOGIN if name in session}
    session.clear()
    session.update(kept)
    login_user(user, remember=remember,
               duration=timedelta(days=current_app.config["REMEMBER_DAYS"]))
    mark_password_typed()


def mark_password_typed() -> None:
    now = int(time.time())
    session[AUTH_AT] = session[SEEN] = now


def end_sessions(user: User) -> None:
    """Sign out here and everywhere else: the account's session version moves on, so every
    other session and remember cookie of it stops working too."""
    end_all_sessions(db.session, user.id)
    db.session.commit()
    logout_user()
    session.clear()


def password_age() -> float:
    typed = session.get(AUTH_AT)
    return float("inf") if typed is None else time.time() - typed


def require_recent_password() -> None:
    """Refuse with 403 ``reauth_required`` unless the password was typed recently."""
    if g.get("token_user") is not None:
        return
    if password_age() > current_app.config["REAUTH_MINUTES"] * 60:
        raise ApiError(403, "reauth_required",
                       _("Type your password again to do this (POST /api/reauth)."))


def recent_password_required(view: Callable) -> Callable:
    """For money-moving actions and reveals; apply under ``role_required``."""
    @wraps(view)
    def guarded(*args, **kwargs):
        require_recent_password()
        return view(*args, **kwargs)
    return guarded


def init_sessions(app: Flask) -> None:
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_DURATION=timedelta(days=app.config["REMEMBER_DAYS"]),
        REMEMBER_COOKIE_REFRESH_EACH_REQUEST=False,
    )
    secure = bool(app.config["SECURE_COOKIES"])
    # "__Host-" makes the browser refuse the cookie unless Secure, path "/", no Domain:
    # no sibling subdomain or plain-http page can plant or overwrite it.
    prefix = "__Host-" if secure else ""
    app.config.update(SESSION_COOKIE_SECURE=secure, REMEMBER_COOKIE_SECURE=secure,
                      SESSION_COOKIE_NAME=prefix + "kamidesk",
                      REMEMBER_COOKIE_NAME=prefix + "kamidesk_remember",
                      SESSION_COOKIE_PATH="/", REMEMBER_COOKIE_PATH="/",
                      SESSION_COOKIE_DOMAIN=None, REMEMBER_COOKIE_DOMAIN=None)

    @app.before_request
    def drop_idle_session() -> None:
        if "_user_id" not in session:
            return
        seen = session.get(SEEN)
        if seen is None or time.time() - seen > app.config["IDLE_MINUTES"] * 60:
            for name in ("_user_id", "_fresh", "_id", SEEN, AUTH_AT):
                session.pop(name, None)

    @app.after_request
    def note_activity(response):
        if "_user_id" in session and time.time() - session.get(SEEN, 0) >= SEEN_RESOLUTION:
            session[SEEN] = int(time.time())
        return response
