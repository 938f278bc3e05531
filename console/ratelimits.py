"""Abuse limits on Flask-Limiter's storage: shared through Redis when the message queue is
Redis (so every process counts together), in memory for a single process.

Limits are settings such as ``"5 per 15 minutes"`` (README "Security").  ``spend`` takes
one unit atomically *before* the guarded work runs, so a burst of parallel requests cannot
all slip under the limit.  If the storage is unreachable the error is not swallowed: the
request is refused with 503 ``rate_limit_unavailable`` rather than let through unlimited.
"""
from __future__ import annotations

import logging
import time

from flask import Flask, current_app
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from limits import parse
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from console.errors import ApiError, error_response
from console.extensions import limiter

log = logging.getLogger(__name__)


class Limited(ApiError):
    """429 with how long to wait (``Retry-After``)."""

    def __init__(self, message: str, retry_after: int, code: str = "rate_limited") -> None:
        super().__init__(429, code, message)
        self.retry_after = retry_after


def storage_uri(config: dict) -> str:
    """``RATELIMIT_STORAGE``, else the Redis message queue, else this process's memory."""
    if config.get("RATELIMIT_STORAGE"):
        return config["RATELIMIT_STORAGE"]
    queue = config.get("MESSAGE_QUEUE") or ""
    return queue if queue.startswith(("redis://", "rediss://")) else "memory://"


_LOCAL = FixedWindowRateLimiter(MemoryStorage())


def spend(setting: str, *identity: object, local_fallback: bool = False) -> int:
    """Take one unit of the limit named by ``setting`` for ``identity``: 0 when allowed,
    else the seconds until the window lets another through.

    A storage error propagates (the request is refused with 503), unless
    ``local_fallback``: then this process counts on its own until the storage answers, so
    the limit still holds per process (chat keeps working while Redis is away).
    """
    if not limiter.enabled:
        return 0
    item = parse(current_app.config[setting])
    keys = (setting, *map(str, identity))
    try:
        return _take(limiter.limiter, item, keys)
    except Exception as exc:
        if not local_fallback or not _is_storage_error(exc):
            raise
        log.warning("rate-limit storage unreachable; counting %s in this process", setting)
        return _take(_LOCAL, item, keys)


def _take(strategy, item, keys: tuple[str, ...]) -> int:
    if strategy.hit(item, *keys):
        return 0
    reset = strategy.get_window_stats(item, *keys).reset_time
    return max(1, int(reset - time.time() + 0.999))


def _is_storage_error(exc: Exception) -> bool:
    if isinstance(exc, (StorageError, ConnectionError, TimeoutError)):
        return True
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, RedisError)


def spend_or_refuse(setting: str, *identity: object, message: str | None = None) -> None:
    wait = spend(setting, *identity)
    if wait:
        raise Limited(message or _("Too many requests; try again in %(seconds)s seconds.",
                                   seconds=wait), wait)


def forgive(setting: str, *identity: object) -> None:
    """Forget what ``identity`` spent (a successful sign-in clears the account's failures)."""
    if limiter.enabled:
        limiter.limiter.clear(parse(current_app.config[setting]), setting, *map(str, identity))


def per_user() -> str:
    """Key for limits on a signed-in agent (search, reveals), not their address."""
    return f"user:{current_user.id}" if current_user.is_authenticated else "anonymous"


def config_limit(setting: str):
    """A Flask-Limiter limit value read from the app's settings at request time."""
    return lambda: current_app.config[setting]


def init_rate_limits(app: Flask) -> None:
    app.config.update(RATELIMIT_STORAGE_URI=storage_uri(app.config),
                      RATELIMIT_SWALLOW_ERRORS=False, RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=False,
                      RATELIMIT_HEADERS_ENABLED=True)
    limiter.init_app(app)

    @app.errorhandler(Limited)
    def limited(exc: Limited):
        response, status = error_response(429, exc.code, exc.message)
        response = app.make_response((response, status))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(RateLimitExceeded)
    def exceeded(exc: RateLimitExceeded):
        response = app.make_response(error_response(
            429, "rate_limited", _("Too many requests (limit %(limit)s); wait and try again.",
                                   limit=exc.description)))
        if exc.response is not None:
            for name in ("Retry-After", "X-RateLimit-Limit", "X-RateLimit-Reset"):
                if name in exc.response.headers:
                    response.headers[name] = exc.response.headers[name]
        return response

    def storage_down(_exc: Exception):
        app.logger.error("rate-limit storage unreachable; refusing the request")
        return error_response(503, "rate_limit_unavailable",
                              _("The service is busy; try again in a moment."))

    app.register_error_handler(StorageError, storage_down)
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is only needed with Redis storage
        return
    app.register_error_handler(RedisError, storage_down)
