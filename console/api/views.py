"""The JSON API's blueprint (``/api``: orders, edit requests, actions, audit).

One blueprint for the URL space; its routes live in the modules imported at the end,
one per feature: ``orders`` (list, detail, the order's conversation), ``order_detail``
(reveals, notes, tags), ``search`` (search and exports), ``actions`` (refund, reissue,
cancel, edit requests, approvals, audit).
"""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from console.api import actions, order_detail, orders, search  # noqa: E402,F401
