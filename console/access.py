"""Who is asking: session users for pages, bearer tokens for the API, ranked roles for both."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import Flask, redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from console.errors import ApiError, error_response
from console.extensions import csrf, db, login_manager
from console.models import ApiToken, User, hash_token, utcnow


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def user_for_token(token: str) -> User | None:
    row = db.session.execute(
        db.select(ApiToken).where(ApiToken.token_hash == hash_token(token))).scalar_one_or_none()
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    db.session.commit()
    return row.user


def init_access(app: Flask) -> None:
    login_manager.login_view = "auth.login"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return db.session.get(User, int(user_id))

    @login_manager.request_loader
    def load_from_header(_request) -> User | None:
        token = bearer_token()
        return user_for_token(token) if token else None

    @login_manager.unauthorized_handler
    def unauthorized():
        if request.path.startswith("/api/"):
            code = "invalid_token" if bearer_token() else "authentication_required"
            return error_response(401, code, "Sign in or send a valid bearer token.")
        return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))

    @app.before_request
    def check_csrf() -> None:
        """Forms and cookie-authenticated API calls need the CSRF token; bearer calls don't."""
        if request.method in ("GET", "HEAD", "OPTIONS") or bearer_token():
            return
        if request.path.startswith(("/api/widget/", "/socket.io", "/api/webhooks/")):
            return  # the widget's token, the socket's auth, the webhook's HMAC stand in
        csrf.protect()

    @app.errorhandler(CSRFError)
    def csrf_failed(exc: CSRFError):
        return error_response(400, "csrf_failed", exc.description)


def role_required(role: str = "agent") -> Callable:
    """Refuse anyone below ``role``: 401 when nobody is signed in, 403 when too junior."""
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(role):
                raise ApiError(403, "forbidden", f"This needs the {role} role.")
            return view(*args, **kwargs)
        return guarded
    return decorate
