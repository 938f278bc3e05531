"""Order changes a shop pushes to ``POST /api/webhooks/orders`` (HMAC-signed, replay-proof).

``signature`` checks a delivery, ``inbox`` keeps the changes in the console DB for the order
watcher (``pushed_since`` has the shape of ``OrderStore.changed_since``), ``views`` is the
endpoint.
"""
from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from console.webhooks import views  # noqa: E402,F401  (registers the route)
