"""Smoke tests for the real-server fixtures in tests/server_fixtures.py.

They prove each server starts, answers, and (for Redis) survives an outage
with the same URL, so failures elsewhere are not blamed on the harness.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest


def _pg_connect(url: str) -> Any:
    import psycopg

    u = urlsplit(url)
    return psycopg.connect(
        host=u.hostname, port=u.port, user=u.username, dbname=u.path.lstrip("/"), autocommit=True
    )


@pytest.mark.postgres
def test_postgres_select_1(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+psycopg://kamidesk@127.0.0.1:")
    with _pg_connect(postgres_url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
        assert conn.execute("select current_database()").fetchone() == ("kamidesk_test",)


@pytest.mark.postgres
def test_postgres_pg_trgm(postgres_url: str) -> None:
    with _pg_connect(postgres_url) as conn:
        (sim,) = conn.execute("select similarity('abc', 'abd')").fetchone()
        assert 0.0 < sim < 1.0


@pytest.mark.redis
def test_redis_set_get_and_restart(redis_server: Any) -> None:
    import redis

    url = redis_server.url
    assert url.startswith("redis://127.0.0.1:") and url.endswith("/0")
    client = redis.Redis.from_url(url, socket_timeout=2)
    assert client.set("kamidesk:probe", "1")
    assert client.get("kamidesk:probe") == b"1"

    redis_server.stop()
    with pytest.raises(redis.exceptions.ConnectionError):
        redis.Redis.from_url(url, socket_timeout=1).ping()

    redis_server.start()
    assert redis_server.url == url
    client = redis.Redis.from_url(url, socket_timeout=2)
    assert client.ping()
    assert client.set("kamidesk:probe", "2")
    assert client.get("kamidesk:probe") == b"2"


@pytest.mark.mariadb
def test_mariadb_select_1(mariadb_url: str) -> None:
    import pymysql

    u = urlsplit(mariadb_url)
    conn = pymysql.connect(
        host=u.hostname,
        port=u.port,
        user=u.username,
        database=u.path.lstrip("/"),
        connect_timeout=5,
    )
    try:
        with conn.cursor() as cur:
            cur.execute("select 1")
            assert cur.fetchone() == (1,)
            cur.execute("select @@character_set_database")
            assert cur.fetchone() == ("utf8mb4",)
    finally:
        conn.close()


@pytest.mark.browser
def test_chromium_reads_h1(page: Any) -> None:
    page.goto("data:text/html,<h1>ok</h1>")
    assert page.locator("h1").inner_text() == "ok"
