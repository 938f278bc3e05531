"""Reading request parameters with the API's error shape for bad values."""
from __future__ import annotations

from collections.abc import Mapping

from console.errors import ApiError


def int_param(args: Mapping, name: str, default: int, low: int, high: int) -> int:
    """A whole number within [low, high] from ``args``; a clear 400 otherwise."""
    raw = str(args.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_parameter", f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise ApiError(400, "invalid_parameter", f"{name} must be between {low} and {high}")
    return value
