from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from console import audit
from console.auth.forms import LoginForm
from console.extensions import db, limiter
from console.models import User

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only follow local redirects, so a crafted link cannot bounce agents elsewhere."""
    if target and not urlsplit(target).netloc and target.startswith("/") \
            and not target.startswith("//"):
        return target
    return url_for("pages.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: _login_limit(), methods=["POST"])
def login():
    """Sign in; a wrong name or password gets one generic message and an audit record."""
    if current_user.is_authenticated:
        return redirect(url_for("pages.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.execute(
            db.select(User).where(User.name == form.name.data.strip())).scalar_one_or_none()
        if user is None or not user.active or not user.check_password(form.password.data):
            audit.record("login_failed", actor_name=form.name.data.strip()[:80])
            db.session.commit()
            flash(_("Wrong user name or password."), "error")
            return render_template("login.html", form=form), 401
        login_user(user, remember=form.remember.data)
        audit.record("login", actor=user)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (POST only, CSRF-checked, so a link cannot sign an agent out)."""
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


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


def _login_limit() -> str:
    from flask import current_app
    return current_app.config["LOGIN_RATE_LIMIT"]
