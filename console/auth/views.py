from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from console import audit
from console.access import role_required
from console.auth.forms import LoginForm
from console.auth.sessions import end_sessions, mark_password_typed, start_session
from console.chat.socket_guard import disconnect_user
from console.errors import ApiError
from console.extensions import db
from console.models import User
from console.people import disable_user, enable_user
from console.ratelimits import Limited, forgive, spend

ACCOUNT_LIMIT, ADDRESS_LIMIT = "LOGIN_ACCOUNT_LIMIT", "LOGIN_RATE_LIMIT"

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only follow local redirects, so a crafted link cannot bounce agents elsewhere."""
    if target and not urlsplit(target).netloc and target.startswith("/") \
            and not target.startswith("//"):
        return target
    return url_for("pages.index")


def lockout(name: str) -> int:
    """Spend one sign-in attempt of this address and of this account (atomically, before the
    password is checked); seconds to wait when either is used up, else 0."""
    wait = spend(ADDRESS_LIMIT, request.remote_addr) or spend(ACCOUNT_LIMIT, name.lower())
    if wait:
        audit.record("login_locked", actor_name=name[:80], retry_after=wait)
        db.session.commit()
    return wait


def check_password(name: str, password: str) -> User | None:
    """The user if the password is right; a wrong one is audited.  A right one clears the
    account's failed attempts."""
    user = db.session.execute(db.select(User).where(User.name == name)).scalar_one_or_none()
    if user is None or not user.active or not user.check_password(password):
        audit.record("login_failed", actor_name=name[:80])
        db.session.commit()
        return None
    forgive(ACCOUNT_LIMIT, name.lower())
    return user


def locked_message(wait: int) -> str:
    return _("Too many sign-in attempts; wait %(minutes)s minutes and try again.",
             minutes=max(1, (wait + 59) // 60))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in; a wrong name or password gets one generic message and an audit record.

    Attempts are limited per address (``LOGIN_RATE_LIMIT``) and per account
    (``LOGIN_ACCOUNT_LIMIT``); past either the form answers 429 with a lockout message.
    """
    if current_user.is_authenticated:
        return redirect(url_for("pages.index"))
    form = LoginForm()
    if form.validate_on_submit():
        name = form.name.data.strip()
        wait = lockout(name)
        if wait:
            flash(locked_message(wait), "error")
            response = current_app.make_response((render_template("login.html", form=form), 429))
            response.headers["Retry-After"] = str(wait)
            return response
        user = check_password(name, form.password.data)
        if user is None:
            flash(_("Wrong user name or password."), "error")
            return render_template("login.html", form=form), 401
        start_session(user, remember=bool(form.remember.data))
        audit.record("login", actor=user)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (POST only, CSRF-checked, so a link cannot sign an agent out).  This ends
    every session and "keep me signed in" cookie of the account, not just this browser's."""
    user = current_user._get_current_object()
    audit.record("logout", actor=user)
    end_sessions(user)
    disconnect_user(user.id)
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/api/reauth")
@login_required
def reauth():
    """``{"password"}``: confirm it is still the agent at the keyboard, for the next
    ``REAUTH_MINUTES`` of refunds, reissues, cancels, approvals and reveals."""
    data = request.get_json(silent=True)
    password = data.get("password") if isinstance(data, dict) else None
    if not isinstance(password, str) or not password:
        raise ApiError(400, "invalid_request", _("Send your password."))
    user = current_user._get_current_object()
    wait = lockout(user.name)
    if wait:
        raise Limited(locked_message(wait), wait)
    if check_password(user.name, password) is None:
        raise ApiError(401, "wrong_password", _("That password is not right."))
    mark_password_typed()
    audit.record("reauth", actor=user)
    db.session.commit()
    return jsonify(ok=True, valid_for_minutes=current_app.config["REAUTH_MINUTES"])


@bp.post("/api/users/<name>/disable", defaults={"change": "disable"})
@bp.post("/api/users/<name>/enable", defaults={"change": "enable"})
@role_required("admin")
def switch_user(name: str, change: str):
    """Admins: disable an account (its sessions end and its sockets disconnect at once) or
    let it sign in again."""
    switch = disable_user if change == "disable" else enable_user
    user = switch(name, actor_name=current_user.name)
    if user is None:
        raise ApiError(404, "user_not_found", _("There is no such user."))
    return jsonify(user={"name": user.name, "role": user.role, "active": user.active})


@bp.route("/language/<code>", methods=["POST"])
def set_language(code: str):
    """Remember the agent's language choice for this browser (and their account)."""
    if code in ("en", "zh_CN"):
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.language = code
            db.session.commit()
    return redirect(_safe_next(request.form.get("next") or request.referrer and
                               urlsplit(request.referrer).path))
