"""pytest plugin: session-scoped real servers (PostgreSQL, Redis, MariaDB, Chromium).

Load with `pytest_plugins = ["tests.server_fixtures"]`. Servers start lazily,
only when a test asks for the fixture, and are torn down at session end.
A missing server skips the test locally but FAILS it under CI=true, so CI can
never go green by silently skipping the integration suite.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests import servers
from tests.servers import RedisServer

SERVICES_HINT = "run `scripts/services.sh` as root"

_redis: RedisServer | None = None


def in_ci() -> bool:
    """CI sets CI=true; there a missing server is a broken machine, not an option."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def require(what: str, available: bool, hint: str) -> None:
    """Fail (under CI=true) or skip (elsewhere) unless *available*."""
    if available:
        return
    msg = f"{what} is not available: {hint}"
    if in_ci():
        pytest.fail(f"{msg} (CI=true: missing servers fail, not skip)", pytrace=False)
    pytest.skip(msg)


def _has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL (postgresql+psycopg://kamidesk@127.0.0.1:PORT/kamidesk_test) with pg_trgm."""
    bindir = servers.find_postgres_bin()
    require(
        "PostgreSQL",
        bindir is not None,
        f"install Debian packages `postgresql postgresql-contrib` ({SERVICES_HINT})",
    )
    assert bindir is not None
    require(
        "PostgreSQL extension pg_trgm",
        servers.postgres_has_extension(bindir, "pg_trgm"),
        f"install Debian package `postgresql-contrib` ({SERVICES_HINT})",
    )
    require("Python package psycopg", _has_module("psycopg"), "pip install 'psycopg[binary]'")
    with servers.running_postgres(tmp_path_factory.mktemp("postgres")) as url:
        yield url


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """Private Redis with `.url`, `.stop()`, `.start()` (same port after restart).

    A test that stops it and fails before starting it again does not break
    later tests: pytest_runtest_teardown below restarts it.
    """
    global _redis
    require(
        "Redis",
        servers.find_redis_server() is not None,
        f"install Debian package `redis-server` ({SERVICES_HINT})",
    )
    with servers.running_redis(tmp_path_factory.mktemp("redis")) as server:
        _redis = server
        try:
            yield server
        finally:
            _redis = None


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Bring the session Redis back if a test left it stopped."""
    if _redis is not None and not _redis.running:
        _redis.start()


@pytest.fixture(scope="session")
def mariadb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL (mysql+pymysql://root@127.0.0.1:PORT/kamidesk_test), utf8mb4."""
    have = None not in (
        servers.find_mariadbd(),
        servers.find_mariadb_install_db(),
        servers.find_mariadb_client(),
    )
    require("MariaDB", have, f"install Debian package `mariadb-server` ({SERVICES_HINT})")
    require("Python package PyMySQL", _has_module("pymysql"), "pip install PyMySQL")
    with servers.running_mariadb(tmp_path_factory.mktemp("mariadb")) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by the playwright pip package.

    Playwright's own browser downloads are never used (`playwright install`
    cannot run here); executable_path points at /usr/bin/chromium.
    """
    path = servers.chromium_path()
    require(
        "Chromium",
        path is not None,
        f"install Debian packages `chromium fonts-noto-cjk` ({SERVICES_HINT}),"
        " or set KAMIDESK_CHROMIUM to a Chromium binary",
    )
    require("Python package playwright", _has_module("playwright"), "pip install playwright")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=path, headless=True, args=servers.chromium_args())
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """Fresh context per test (en-US, 1280x800) so cookies/storage never leak."""
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()


__all__ = ["browser", "in_ci", "mariadb_url", "page", "postgres_url", "redis_server", "require"]
