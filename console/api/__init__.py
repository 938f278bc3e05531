"""The JSON API (session cookie or bearer token)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from console.api import (
    actions,  # noqa: E402,F401
    orders,  # noqa: E402,F401
    search,  # noqa: E402,F401
)
