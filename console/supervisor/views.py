"""The supervisor dashboard page."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from console.errors import ApiError
from console.supervisor.sla import targets_from_config

bp = Blueprint("supervisor", __name__)


@bp.get("/supervisor")
@login_required
def dashboard():
    """Are we within the targets, who is slow, when are we busiest, what is broken now."""
    if not current_user.has_role("supervisor"):
        raise ApiError(403, "forbidden", _("This needs the supervisor role."))
    return render_template("supervisor/dashboard.html",
                           targets=targets_from_config(current_app.config))


from console.supervisor import api  # noqa: E402,F401  (the JSON routes on this blueprint)
