"""Translation for the actions service, usable with or without a request."""
from __future__ import annotations

from flask import has_request_context
from flask_babel import get_locale, gettext

from console.orders.explain import status_label


def t(message: str, **values: object) -> str:
    """Translated when a request tells us the language; plain English otherwise (CLI, jobs)."""
    if has_request_context():
        return gettext(message, **values)
    return message % values if values else message


def status_word(status: str) -> str:
    """An order status as the reader says it ("refunded" / "已退款"), not the stored code."""
    locale = get_locale() if has_request_context() else None
    return status_label(status, "zh_CN" if locale is not None and locale.language == "zh" else "en")
