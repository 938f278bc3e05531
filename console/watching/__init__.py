"""Order watching: stuck orders, supplier outages and the incidents supervisors handle."""
from flask import Blueprint

bp = Blueprint("watching", __name__)

from console.watching import api, views  # noqa: E402,F401
