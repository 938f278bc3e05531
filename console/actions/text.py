"""Translation for the actions service, usable with or without a request."""
from __future__ import annotations

from flask import has_request_context
from flask_babel import gettext


def t(message: str, **values: object) -> str:
    """Translated when a request tells us the language; plain English otherwise (CLI, jobs)."""
    if has_request_context():
        return gettext(message, **values)
    return message % values if values else message
