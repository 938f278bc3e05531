"""Shared fixtures: an app on temp SQLite files, signed-in clients, real stores."""
from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

pytest_plugins = ["tests.server_fixtures"]

FIXED_NOW = datetime(2026, 11, 25, 4, 0, tzinfo=timezone.utc)
PASSWORDS = {"agent": "agent-pass-1", "supervisor": "super-pass-1", "admin": "admin-pass-1"}


def sample_orders(count: int = 300, seed: int = 7):
    from adapters.demo_data import generate_orders
    return list(generate_orders(count, seed=seed, now=FIXED_NOW))


@pytest.fixture(scope="session")
def demo_orders():
    """A few hundred generated orders, shared read-only by tests."""
    return sample_orders()


@pytest.fixture
def sqlite_store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@contextmanager
def fresh_pg_database(postgres_url: str, prefix: str = "t_"):
    """A new database on the session's PostgreSQL server, dropped afterwards."""
    import psycopg

    url = make_url(postgres_url)
    name = prefix + uuid.uuid4().hex[:12]
    admin = f"host={url.host} port={url.port} user={url.username} dbname={url.database}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_store_url(postgres_url: str):
    """A fresh PostgreSQL database per test for the order store."""
    with fresh_pg_database(postgres_url) as url:
        yield url


@pytest.fixture
def pg_console_url(postgres_url: str):
    """A fresh PostgreSQL database per test for the console's own tables."""
    with fresh_pg_database(postgres_url, "c_") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request) -> str:
    """The reference store's URL on each backend the contract covers."""
    fixture = "sqlite_store_url" if request.param == "sqlite" else "pg_store_url"
    return request.getfixturevalue(fixture)


def make_app(tmp_path: Path, store_url: str | None = None, **extra):
    from console import create_app

    config = {
        "INSTANCE": str(tmp_path / "instance"), "TESTING": True,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}",
        "STORE_URL": store_url or f"sqlite:///{tmp_path / 'store.db'}",
        "SECRET_KEY": "test-secret", "RATELIMIT_ENABLED": False,
        "WIDGET_SECRET": "widget-secret",
    }
    config.update(extra)
    return create_app(config)


@pytest.fixture
def app(tmp_path: Path):
    app = make_app(tmp_path)
    with app.app_context():
        from console.people import save_user
        for name, password in PASSWORDS.items():
            save_user(name, name, password)
    yield app
    from console.store import EXTENSION_KEY
    store = app.extensions.get(EXTENSION_KEY)
    if store is not None:
        store.close()


@pytest.fixture
def store(app):
    from console.store import get_store
    with app.app_context():
        return get_store()


@pytest.fixture
def loaded_store(store, demo_orders):
    store.load(demo_orders)
    return store


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html) or \
        re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class AuthActions:
    def __init__(self, client) -> None:
        self.client = client

    def login(self, name: str = "agent", password: str | None = None):
        return self.login_as(name, password or PASSWORDS[name])

    def login_as(self, name: str, password: str):
        token = csrf_from(self.client.get("/login").get_data(as_text=True))
        return self.client.post("/login", data={
            "name": name, "password": password, "csrf_token": token})

    def logout(self):
        token = csrf_from(self.client.get("/").get_data(as_text=True))
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def token_for(app):
    """Issue a bearer token for one of the test users."""
    def issue(name: str = "agent") -> str:
        from console.people import issue_token
        with app.app_context():
            return issue_token(name, "test")
    return issue
