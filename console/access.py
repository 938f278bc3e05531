"""Who is asking: session users for pages, bearer tokens for the API, ranked roles for both."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, g, redirect, request, session, url_for
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


def token_user() -> User | None:
    """The user this request's bearer token authenticates (looked up once per request)."""
    if "token_user" not in g:
        token = bearer_token()
        g.token_user = user_for_token(token) if token else None
    return g.token_user


def user_for_session(user_id: str) -> User | None:
    """The user of a session or remember cookie (``"<id>.<version>"``), while that version
    is still the account's: sign-out and disabling bump it (console/auth/models.py)."""
    from console.auth.models import current_version
    number, _, version = str(user_id).partition(".")
    if not number.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(number))
    if user is None or not user.active or int(version) != current_version(db.session, user.id):
        return None
    return user


def still_signed_in(user_id: int, version: int | None) -> bool:
    """One query: the account is active and, for a cookie sign-in (``version`` given), its
    session version has not moved on (sign-out, disabling)."""
    from console.auth.models import SessionVersion
    row = db.session.execute(
        db.select(User.active, SessionVersion.version)
        .outerjoin(SessionVersion, SessionVersion.user_id == User.id)
        .where(User.id == user_id)).one_or_none()
    if row is None or not row.active:
        return False
    return version is None or version == (row.version or 1)


def init_access(app: Flask) -> None:
    login_manager.login_view = "auth.login"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        if bearer_token():  # a request that shows a token is judged by the token alone
            return None
        return user_for_session(user_id)

    @login_manager.request_loader
    def load_from_header(_request) -> User | None:
        return token_user()

    @login_manager.unauthorized_handler
    def unauthorized():
        if request.path.startswith("/api/"):
            code = "invalid_token" if bearer_token() else "authentication_required"
            return error_response(401, code, "Sign in or send a valid bearer token.")
        return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))

    @app.before_request
    def check_csrf() -> None:
        """Forms and cookie-authenticated API calls need the CSRF token; a call skips it only
        when a valid bearer token authenticated it (any other ``Authorization`` value
        counts for nothing: a signed-in cookie beside it still needs the CSRF token)."""
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        if request.path.startswith(("/api/widget/", "/socket.io", "/api/webhooks/")):
            return  # the widget's token, the socket's auth, the webhook's HMAC stand in
        if token_user() is not None:
            return
        if bearer_token() and "_user_id" not in session:
            return  # anonymous with a bad token: nothing a forged request could borrow
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
