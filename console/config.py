"""Settings: defaults here, then the instance file, then ``KAMIDESK_*`` environment variables."""
from __future__ import annotations

import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from console.runtime import DEFAULT_GC_THRESHOLDS

ENV_PREFIX = "KAMIDESK_"


def parse_bool(raw: str) -> bool:
    return str(raw).strip().lower() in ("1", "true", "yes", "on")


def parse_names(raw: str) -> tuple[str, ...]:
    """``"agent, supervisor"`` -> ``("agent", "supervisor")``."""
    return tuple(part.strip() for part in str(raw).replace(",", " ").split() if part.strip())


def parse_origins(raw: str) -> tuple[str, ...]:
    """Origins as the browser sends them: scheme://host[:port], no path, no trailing slash."""
    return tuple(name.rstrip("/") for name in parse_names(raw))

# plain name -> (default, parser).  Each is read from KAMIDESK_<NAME>.
SETTINGS: dict[str, tuple[object, Callable[[str], object]]] = {
    "DATABASE_URL": (None, str),
    "STORE": ("sql", str),
    "STORE_URL": (None, str),
    "STORE_TOKEN": (None, str),
    "WEBHOOK_SECRET": (None, str),
    "MESSAGE_QUEUE": (None, str),
    "SECRET_KEY": (None, str),
    "WIDGET_SECRET": (None, str),
    "TIMEZONE": ("Asia/Shanghai", str),
    "REFUND_APPROVAL_ABOVE": (Decimal("200.00"), Decimal),
    "PAGE_SIZE": (50, int),
    "LOGIN_RATE_LIMIT": ("10 per minute", str),
    "ASYNC_MODE": (None, str),
    "CANCEL_WINDOW_MINUTES": (5, int),
    "REFUND_DAILY_LIMIT": (Decimal("1000.00"), Decimal),
    "GC_THRESHOLDS": (DEFAULT_GC_THRESHOLDS, str),
    "PING_INTERVAL": (25, int),
    # security (README "Security"): cookies, sessions, headers, proxies, limits, reveals
    "SECURE_COOKIES": (True, parse_bool),
    "IDLE_MINUTES": (30, int),
    "REMEMBER_DAYS": (7, int),
    "REAUTH_MINUTES": (10, int),
    "WIDGET_ORIGINS": ((), parse_origins),
    "TRUSTED_PROXIES": (0, int),
    "RATELIMIT_STORAGE": (None, str),
    "LOGIN_ACCOUNT_LIMIT": ("5 per 15 minutes", str),
    "WIDGET_SESSION_LIMIT": ("30 per minute", str),
    "VERIFY_LIMIT": ("5 per 15 minutes", str),
    "VERIFY_ORDER_LIMIT": ("10 per day", str),
    "VERIFY_GLOBAL_LIMIT": ("1000 per hour", str),
    "CHAT_MESSAGE_LIMIT": ("30 per minute", str),
    "SEARCH_RATE_LIMIT": ("300 per minute", str),
    "REVEAL_RATE_LIMIT": ("30 per hour", str),
    "NO_REVEAL_ROLES": ((), parse_names),
    "UNMASKED_EXPORT_ROLES": ("admin", str),
    "RETENTION": ("2y", str),
    "LOG_LEVEL": (None, str),
    "SLA_FIRST_RESPONSE_SECONDS": (120, int),
    "SLA_RESOLUTION_SECONDS": (600, int),
    "BUSINESS_HOURS": (None, str),
    "STUCK_THRESHOLDS": (None, str),
    "WATCH_WINDOW_MINUTES": (30, int),
    "WATCH_IN_PROCESS": (None, str),
}


def instance_path() -> Path:
    """Where the console keeps its own files; a checkout-relative default for the demo."""
    return Path(os.environ.get(ENV_PREFIX + "INSTANCE") or Path.cwd() / "instance").resolve()


def load_settings(folder: Path, overrides: dict | None = None) -> dict:
    values = {name: default for name, (default, _) in SETTINGS.items()}
    values.update(_instance_file(folder))
    for name, (_, parse) in SETTINGS.items():
        raw = os.environ.get(ENV_PREFIX + name)
        if raw not in (None, ""):
            values[name] = parse(raw)
    values.update(overrides or {})
    values.setdefault("DATABASE_URL", None)
    values["DATABASE_URL"] = values["DATABASE_URL"] or f"sqlite:///{folder / 'console.db'}"
    values["STORE_URL"] = values["STORE_URL"] or f"sqlite:///{folder / 'store.db'}"
    values["SECRET_KEY"] = values["SECRET_KEY"] or _instance_secret(folder)
    return values


def _instance_file(folder: Path) -> dict:
    """``instance/kamidesk.cfg`` holds ``NAME = value`` lines (no code is executed)."""
    path = folder / "kamidesk.cfg"
    if not path.exists():
        return {}
    values: dict = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, raw = (part.strip() for part in line.split("=", 1))
        name = name.removeprefix(ENV_PREFIX)
        if name in SETTINGS:
            values[name] = SETTINGS[name][1](raw.strip("'\""))
    return values


def _instance_secret(folder: Path) -> str:
    """A random secret kept in the instance folder, so sessions survive restarts."""
    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(os.urandom(32).hex(), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()
