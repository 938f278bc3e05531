"""The settings the action rules read, handed to the service by its callers.

Views build them from the app's configuration per request (``from_config``), so the
rules run the same in a request, a CLI command or a test without a Flask app.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from console.config import SETTINGS


def _default(name: str) -> object:
    return SETTINGS[name][0]


@dataclass(frozen=True)
class ActionSettings:
    """Defaults are the documented configuration defaults (``console.config.SETTINGS``)."""

    refund_approval_above: Decimal = Decimal(str(_default("REFUND_APPROVAL_ABOVE")))
    refund_daily_limit: Decimal = Decimal(str(_default("REFUND_DAILY_LIMIT")))
    cancel_window_minutes: int = int(str(_default("CANCEL_WINDOW_MINUTES")))
    timezone: str = str(_default("TIMEZONE"))

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> ActionSettings:
        """Read ``REFUND_APPROVAL_ABOVE``, ``REFUND_DAILY_LIMIT``, ``CANCEL_WINDOW_MINUTES``
        and ``TIMEZONE`` from an app's configuration."""
        return cls(refund_approval_above=Decimal(str(config["REFUND_APPROVAL_ABOVE"])),
                   refund_daily_limit=Decimal(str(config["REFUND_DAILY_LIMIT"])),
                   cancel_window_minutes=int(str(config["CANCEL_WINDOW_MINUTES"])),
                   timezone=str(config["TIMEZONE"]))
