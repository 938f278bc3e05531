"""Supervisors: the dashboard, response-time figures, SLA breaches, the live queue panel
and shop analytics."""
from flask import Blueprint

bp = Blueprint("supervisor", __name__)

from console.supervisor import api, views  # noqa: E402,F401
