"""When an order counts as stuck: how long each status may last, per product category.

``KAMIDESK_STUCK_THRESHOLDS`` overrides or adds rules, comma-separated
``category:status=duration``, ``*`` for any category, durations as ``90s``, ``15m`` or
``2h``; e.g. ``phone_topup:processing=20m,*:paid=3m``.  The most specific rule wins.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

CATEGORIES = ("game_card", "game_topup", "phone_topup", "data_topup", "video_membership",
              "gift_card", "virtual_currency", "software_key", "other")
CARD_CATEGORIES = ("game_card", "gift_card", "software_key")
WAITING_STATUSES = ("paid", "processing")
FAILED_STATUSES = ("failed",)

# (category or "*", status) → seconds
DEFAULT_THRESHOLDS: dict[tuple[str, str], int] = {
    ("*", "paid"): 10 * 60,            # paid but nothing started
    ("*", "processing"): 30 * 60,
    **{(category, "paid"): 5 * 60 for category in CARD_CATEGORIES},  # a key is instant
    ("phone_topup", "processing"): 15 * 60,
    ("data_topup", "processing"): 15 * 60,
    ("game_topup", "processing"): 10 * 60,
    ("virtual_currency", "processing"): 10 * 60,
}
_DURATION = re.compile(r"^(\d+)\s*([smh]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}


def parse_duration(text: str) -> int:
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise ValueError(f"a duration looks like 90s, 15m or 2h, not {text!r}")
    return int(match[1]) * _UNITS[match[2]]


def parse_thresholds(text: str | None) -> dict[tuple[str, str], int]:
    """The defaults with ``text``'s rules on top; ValueError naming the bad part."""
    rules = dict(DEFAULT_THRESHOLDS)
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        key, _, duration = part.partition("=")
        category, _, status = key.strip().partition(":")
        if not status or not duration:
            raise ValueError(f"a stuck rule looks like phone_topup:processing=15m, not {part!r}")
        if category != "*" and category not in CATEGORIES:
            raise ValueError(f"unknown category {category!r} in {part!r}")
        rules[(category, status.strip())] = parse_duration(duration)
    return rules


@dataclass(frozen=True)
class StuckRules:
    thresholds: dict[tuple[str, str], int]

    @classmethod
    def from_text(cls, text: str | None) -> StuckRules:
        return cls(parse_thresholds(text))

    def threshold(self, category: str | None, status: str) -> int | None:
        """Seconds ``status`` may last for ``category``; None when it may last forever."""
        found = self.thresholds.get((category or "other", status))
        return found if found is not None else self.thresholds.get(("*", status))

    def as_json(self) -> list[dict]:
        return [{"category": category, "status": status, "threshold_s": seconds}
                for (category, status), seconds in sorted(self.thresholds.items())]
