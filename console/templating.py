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


def init_templating(app: Flask) -> None:
    app.add_template_filter(local_time, "localtime")
    app.add_template_filter(lambda v: "" if v is None else f"{v:,.2f}", "money")

    @app.context_processor
    def globals_for_templates() -> dict:
        return {"current_locale": str(get_locale() or "en")}
