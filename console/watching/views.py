"""The agents' alerts page: stuck orders, with the customer's chat one click away."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from console.errors import ApiError

bp = Blueprint("watching", __name__)


@bp.get("/alerts")
@login_required
def alerts():
    """Stuck orders for agents (the list is filled and kept fresh by static/js/alerts.js)."""
    if not current_user.has_role("agent"):
        raise ApiError(403, "forbidden", _("This needs the agent role."))
    return render_template("watching/alerts.html")


from console.watching import api  # noqa: E402,F401  (the JSON routes on this blueprint)
