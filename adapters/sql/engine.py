"""Engines for the reference store, tuned per backend."""
from __future__ import annotations

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

# A store that is down or slow must never hang a page, a search or an action: each wait has
# an end, after which the adapter raises StoreUnavailable and the console says so.  The URL
# may set its own (PostgreSQL: ``?connect_timeout=3&options=-c statement_timeout=5000``).
CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_MS = 15_000
SQLITE_LOCK_WAIT_S = 30


def store_engine(url: str) -> Engine:
    """An engine whose connections give up after a bounded wait (connect, lock, statement)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        wait = float(str(parsed.query.get("timeout", SQLITE_LOCK_WAIT_S)))
        engine = create_engine(parsed.difference_update_query(["timeout"]),
                               connect_args={"timeout": wait, "check_same_thread": False})
        event.listen(engine, "connect", lambda conn, record: _sqlite_pragmas(conn, wait))
        return engine
    connect_args: dict = {}
    if parsed.get_backend_name() == "postgresql":
        if "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
        if "options" not in parsed.query:
            connect_args["options"] = f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         pool_timeout=CONNECT_TIMEOUT_S * 2, connect_args=connect_args)


def _sqlite_pragmas(dbapi_connection, wait_s: float) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(wait_s * 1000)}")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()
