"""Helpers templates need: money, times in the agent's zone, status labels."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import get_locale


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(fmt)


def current_language() -> str:
    """"en" or "zh_CN": Babel spells the Chinese locale zh_Hans_CN, the console zh_CN."""
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def init_templating(app: Flask) -> None:
    app.add_template_filter(local_time, "localtime")
    app.add_template_filter(lambda v: "" if v is None else f"{v:,.2f}", "money")
    from console.code_labels import TEMPLATE_FILTERS
    from console.orders.event_text import channel_label
    from console.orders.tags import tag_label
    app.add_template_filter(lambda name: channel_label(name, current_language()), "channel")
    app.add_template_filter(lambda tag: tag_label(tag, current_language()), "tag_label")
    for name, label in TEMPLATE_FILTERS.items():
        app.add_template_filter(label, name)

    @app.context_processor
    def globals_for_templates() -> dict:
        return {"current_locale": current_language()}
