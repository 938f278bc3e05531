"""Median, p90 and count: the three numbers every supervisor figure is given as.

Percentiles interpolate linearly between ranks (the same as numpy's default), so small
samples still give a value.
"""
from __future__ import annotations

import math


def percentile(values: list[float], fraction: float, ordered: bool = False) -> float | None:
    """The ``fraction`` quantile (0..1) by linear interpolation; None for no values.
    ``ordered`` says the values are sorted already."""
    if not values:
        return None
    values = values if ordered else sorted(values)
    position = (len(values) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    value = values[low] + (values[high] - values[low]) * (position - low)
    return round(value, 1)


def summarise(values: list[float]) -> dict:
    """``{"count", "median", "p90"}`` in the values' unit (seconds here)."""
    ordered = sorted(values)
    return {"count": len(values), "median": percentile(ordered, 0.5, ordered=True),
            "p90": percentile(ordered, 0.9, ordered=True)}


def rate(part: int, whole: int) -> float | None:
    """A share rounded to four places; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None
