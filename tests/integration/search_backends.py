"""One loaded console per store backend, shared by a test module (loading is the slow part).

The search tests only read, so a module builds each backend once: an app with
users and a token over a reference store (SQLite file or a fresh PostgreSQL
database) holding the same demo orders, with the search clock pinned to the
moment the orders were generated for.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

from tests.conftest import FIXED_NOW, PASSWORDS, make_app, sample_orders

TZ = ZoneInfo("Asia/Shanghai")
SAMPLE_SIZE, SAMPLE_SEED = 600, 23


@dataclass
class Backend:
    name: str
    app: object
    token: str
    orders: list
    now: datetime = FIXED_NOW

    def client(self):
        return self.app.test_client()

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **params):
        return self.client().get(path, query_string=params, headers=self.headers())

    @property
    def store(self):
        from console.store import get_store
        with self.app.app_context():
            return get_store()


def _pg_database(request) -> str:
    import psycopg

    url = make_url(request.getfixturevalue("postgres_url"))
    name = "s_" + uuid.uuid4().hex[:12]
    admin = f"host={url.host} port={url.port} user={url.username} dbname={url.database}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    request.addfinalizer(drop)
    return url.set(database=name).render_as_string(hide_password=False)


def build_backend(request, tmp_path_factory, size: int = SAMPLE_SIZE, seed: int = SAMPLE_SEED,
                  **config) -> Backend:
    """``request.param`` is "sqlite" or "postgres"; extra ``config`` goes to the app."""
    kind = request.param
    folder = tmp_path_factory.mktemp(f"search-{kind}")
    store_url = _pg_database(request) if kind == "postgres" else f"sqlite:///{folder / 'store.db'}"
    app = make_app(folder, store_url=store_url, SEARCH_CLOCK=lambda: FIXED_NOW, **config)
    orders = sample_orders(size, seed=seed)
    with app.app_context():
        from console.people import issue_token, save_user
        from console.store import get_store
        for user, password in PASSWORDS.items():
            save_user(user, user, password)
        token = issue_token("agent", "search tests")
        get_store().load(orders)

    def close() -> None:
        from console.store import EXTENSION_KEY
        store = app.extensions.get(EXTENSION_KEY)
        if store is not None:
            store.close()
    request.addfinalizer(close)
    return Backend(kind, app, token, orders)

