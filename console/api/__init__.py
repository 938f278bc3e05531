"""The JSON API (session cookie or bearer token)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from console.api import actions, orders, search  # noqa: E402,F401
