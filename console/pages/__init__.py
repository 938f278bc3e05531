"""Server-rendered screens for agents and supervisors."""
from flask import Blueprint

bp = Blueprint("pages", __name__)

from console.pages import views  # noqa: E402,F401
