"""Faults injected into the real stack: a store that is down or hangs, a store locked during
an action, a console DB locked or down, Redis away, and a worker killed with SIGKILL in the
middle of a refund or reissue.  Each must end in a clear answer and never in half a change."""
from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests.chat_server import ChatClient, ChatServer, prepare_instance, wait_until
from tests.conftest import PASSWORDS, make_app
from tests.order_factory import KEY_CARD, load, make_order, stock

pytestmark = pytest.mark.slow


class BlackHole:
    """A loopback port that accepts connections and never says a word: a hung server."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.open:
            with contextlib.suppress(OSError):
                conn, _ = self.sock.accept()
                self.held.append(conn)

    def close(self) -> None:
        self.open = False
        for conn in self.held:
            conn.close()
        self.sock.close()


@contextlib.contextmanager
def sqlite_locked(path: Path):
    """Another process's write transaction on the file: writers wait, readers go on (WAL)."""
    conn = sqlite3.connect(path, timeout=5, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def bearer(app, name: str = "agent") -> dict:
    from console.people import issue_token
    with app.app_context():
        return {"Authorization": f"Bearer {issue_token(name, 'faults')}"}


def console_rows(url: str, table: str, where: str = "1=1") -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {where}")
                                ).scalar_one()
    finally:
        engine.dispose()


def store_refunded(store_url: str, order_no: str) -> str:
    from adapters.sql.store import SqlOrderStore
    store = SqlOrderStore(store_url, create=False)
    try:
        return f"{store.get(order_no).refunded_amount:.2f}"
    finally:
        store.close()


def _login(base: str, name: str = "agent") -> requests.Session:
    import re
    session = requests.Session()
    page = session.get(base + "/login", timeout=30).text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    session.post(base + "/login", timeout=30, data={"name": name, "csrf_token": csrf,
                                                    "password": f"{name}-pass-1"})
    return session


# --- the order store down or hanging ---------------------------------------------------

def test_a_hung_store_times_out_with_a_banner_and_chat_keeps_working(tmp_path):
    hole = BlackHole()
    folder = tmp_path / "instance"
    tokens = prepare_instance(folder, {"agent": "agent"})
    server = ChatServer(folder, store_url=f"postgresql+psycopg://kamidesk@127.0.0.1:"
                        f"{hole.port}/shop?connect_timeout=1&sslmode=disable")
    server.health_timeout = 15  # the health check waits for the store's connect timeout
    server.start()
    try:
        base, auth = server.url, {"Authorization": f"Bearer {tokens['agent']}"}
        health = requests.get(base + "/healthz", timeout=30)
        assert health.status_code == 503
        assert health.json()["checks"]["store"]["ok"] is False
        assert health.json()["checks"]["console_db"]["ok"] is True
        # the API: a clear 503 within its timeout (requests would raise if it hung)
        for path in ("/api/orders/search?q=13812345678", "/api/orders/KD1", "/api/orders"):
            answer = requests.get(base + path, headers=auth, timeout=30)
            assert answer.status_code == 503, path
            assert answer.json()["error"]["code"] == "store_unavailable", path
        # the pages: the search box and the order page say why, in a banner
        browser = _login(base)
        for path in ("/?q=13812345678", "/orders/KD1"):
            page = browser.get(base + path, timeout=30)
            assert page.status_code == 503, path
            assert 'id="store-banner"' in page.text and "chat keeps working" in page.text
        # chat: a customer and an agent still talk
        widget = server.widget_session()
        customer = ChatClient(base, "/customer", widget["token"]).connect()
        agent = ChatClient(base, "/agent", tokens["agent"]).connect()
        try:
            cid = widget["conversation_id"]
            assert customer.send(cid, "is anyone there?")["seq"] == 1
            assert "is anyone there?" in [m["body"] for m in agent.join(cid)["messages"]]
            agent.send(cid, "yes, the order system is slow right now")
            wait_until(lambda: "yes, the order system is slow right now" in
                       customer.bodies(cid), timeout=15, message="agent's reply")
        finally:
            customer.disconnect()
            agent.disconnect()
        # the widget's order check fails clearly too
        verify = requests.post(base + "/api/widget/verify-order", timeout=30, json={
            "order_no": "KD1", "phone_tail": "1234"},
            headers={"Authorization": f"Bearer {widget['token']}"})
        assert verify.status_code == 503
        assert verify.json()["error"]["code"] == "store_unavailable"
    finally:
        server.stop()
        hole.close()


def test_a_store_locked_during_a_refund_refuses_cleanly_and_the_retry_works(tmp_path):
    store_path = tmp_path / "store.db"
    app = make_app(tmp_path, store_url=f"sqlite:///{store_path}?timeout=0.3")
    with app.app_context():
        from console.people import save_user
        from console.store import get_store
        save_user("agent", "agent", PASSWORDS["agent"])
        load(get_store(), make_order("F-1", status="delivered", keys=1))
    client, headers = app.test_client(), bearer(app)
    headers["Idempotency-Key"] = "refund-while-locked"
    console_url = f"sqlite:///{tmp_path / 'console.db'}"
    with sqlite_locked(store_path):
        answer = client.post("/api/orders/F-1/refund", headers=headers,
                             json={"amount": "5.00", "reason": "late"})
        assert answer.status_code == 503, answer.get_json()
        assert answer.get_json()["error"]["code"] == "store_unavailable"
    assert store_refunded(f"sqlite:///{store_path}", "F-1") == "0.00"
    assert console_rows(console_url, "order_actions", "state = 'done'") == 0
    assert console_rows(console_url, "audit_records", "kind = 'refund'") == 0
    again = client.post("/api/orders/F-1/refund", headers=headers,
                        json={"amount": "5.00", "reason": "late"})
    assert again.status_code == 200, again.get_json()
    assert store_refunded(f"sqlite:///{store_path}", "F-1") == "5.00"
    assert console_rows(console_url, "audit_records", "kind = 'refund'") == 1


# --- the console DB locked or down -----------------------------------------------------

def test_a_locked_console_db_answers_503_and_writes_nothing(tmp_path):
    console_path = tmp_path / "console.db"
    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{console_path}?timeout=0.3")
    with app.app_context():
        from console.people import save_user
        from console.store import get_store
        save_user("agent", "agent", PASSWORDS["agent"])
        load(get_store(), make_order("F-2", status="delivered", keys=1))
    client, headers = app.test_client(), bearer(app)
    before = console_rows(f"sqlite:///{console_path}", "audit_records")
    with sqlite_locked(console_path):
        for method, path, body in (("POST", "/api/orders/F-2/refund", {"amount": "2.00",
                                                                         "reason": "x"}),
                                   ("POST", "/api/orders/F-2/notes", {"body": "a note"}),
                                   ("GET", "/api/orders/F-2", None)):
            answer = client.open(path, method=method, json=body,
                                 headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
            assert answer.status_code == 503, (path, answer.get_json())
            assert answer.get_json()["error"]["code"] == "console_db_unavailable"
        page = client.get("/orders/F-2", headers=headers)
        assert page.status_code == 503 and b"console database is busy" in page.data
        assert b"nothing of this was recorded" in page.data
    assert store_refunded(f"sqlite:///{tmp_path / 'store.db'}", "F-2") == "0.00"
    assert console_rows(f"sqlite:///{console_path}", "audit_records") == before
    assert console_rows(f"sqlite:///{console_path}", "order_notes") == 0
    assert client.get("/api/orders/F-2", headers=headers).status_code == 200


@pytest.mark.postgres
def test_a_console_db_that_goes_down_answers_503(tmp_path, pg_console_url, postgres_url):
    app = make_app(tmp_path, DATABASE_URL=pg_console_url)
    with app.app_context():
        from console.people import save_user
        from console.store import get_store
        save_user("agent", "agent", PASSWORDS["agent"])
        load(get_store(), make_order("F-3", status="delivered", keys=1))
    client, headers = app.test_client(), bearer(app)
    assert client.get("/api/orders/F-3", headers=headers).status_code == 200
    name = sa.engine.make_url(pg_console_url).database
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :name"), {"name": name})
        for method, path in (("GET", "/api/orders/F-3"), ("POST", "/api/orders/F-3/notes")):
            answer = client.open(path, method=method, json={"body": "n"}, headers=headers)
            assert answer.status_code == 503, (path, answer.data[:300])
            assert answer.get_json()["error"]["code"] == "console_db_unavailable"
        health = client.get("/healthz")
        assert health.status_code == 503 and not health.get_json()["checks"]["console_db"]["ok"]
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    assert client.get("/api/orders/F-3", headers=headers).status_code == 200


# --- Redis away ------------------------------------------------------------------------

@pytest.mark.redis
def test_with_redis_down_messages_are_stored_before_their_ack_and_health_says_so(
        tmp_path, redis_server):
    folder = tmp_path / "instance"
    tokens = prepare_instance(folder, {"agent": "agent"})
    server = ChatServer(folder, message_queue=redis_server.url).start()
    try:
        widget = server.widget_session()
        cid = widget["conversation_id"]
        customer = ChatClient(server.url, "/customer", widget["token"]).connect()
        try:
            redis_server.stop()
            health = requests.get(server.url + "/healthz", timeout=30)
            assert health.status_code == 503 and not health.json()["checks"]["queue"]["ok"]
            acks = [customer.send(cid, f"while redis is down {i}") for i in range(3)]
        finally:
            customer.disconnect()
        # every acknowledged message is in the console DB, with the seq its ack gave
        engine = sa.create_engine(f"sqlite:///{folder / 'console.db'}")
        with engine.connect() as conn:
            stored = dict(conn.execute(sa.text(
                "SELECT seq, body FROM chat_messages WHERE conversation_id = :c"),
                {"c": cid}).all())
        engine.dispose()
        assert {a["seq"]: a["message"]["body"] for a in acks} == stored
        redis_server.start()
        agent = ChatClient(server.url, "/agent", tokens["agent"]).connect()
        try:
            assert [m["seq"] for m in agent.join(cid)["messages"]] == [1, 2, 3]
        finally:
            agent.disconnect()
    finally:
        server.stop()


# --- a worker killed in the middle of an action ----------------------------------------

@pytest.mark.parametrize("kind", ["refund", "reissue"])
def test_a_worker_killed_mid_action_leaves_it_undone_and_the_retry_does_it_once(tmp_path,
                                                                                 kind):
    folder = tmp_path / "instance"
    tokens = prepare_instance(folder, {"agent": "agent"},
                              orders=[make_order("K-1", status="delivered", keys=1)])
    from console import create_app
    from tests.chat_server import _config
    app = create_app(_config(folder, None))
    with app.app_context():
        from console.store import get_store
        stock(get_store(), KEY_CARD, 3)
        get_store().close()
    store_path = folder / "store.db"
    # the worker's store writes wait up to 20 s for the lock the test holds
    server = ChatServer(folder, store_url=f"sqlite:///{store_path}?timeout=20").start()
    headers = {"Authorization": f"Bearer {tokens['agent']}", "Idempotency-Key": "kill-9"}
    body = {"amount": "4.00", "reason": "late"} if kind == "refund" else {"reason": "bad key"}
    url = f"/api/orders/K-1/{kind}"
    outcome: dict = {}

    def call() -> None:
        try:
            outcome["answer"] = requests.post(server.url + url, json=body, headers=headers,
                                              timeout=60)
        except requests.RequestException as exc:
            outcome["error"] = exc

    try:
        with sqlite_locked(store_path):
            caller = threading.Thread(target=call)
            caller.start()
            # the worker is inside the action once it holds the console DB's write lock
            console = sqlite3.connect(folder / "console.db", timeout=0)
            try:
                wait_until(lambda: _console_write_locked(console), timeout=20,
                           message="the action to start")
            finally:
                console.close()
            server.kill()  # SIGKILL, mid-action
            caller.join(timeout=30)
        assert "error" in outcome  # the connection died with the worker: no answer at all
        console_url = f"sqlite:///{folder / 'console.db'}"
        store_url = f"sqlite:///{store_path}"
        assert console_rows(console_url, "order_actions") == 0
        assert console_rows(console_url, "audit_records", f"kind = '{kind}'") == 0
        assert _store_state(store_url) == ("0.00", ["K-1-S0"])
        # a new worker and the same request: done once, audited once; a replay changes nothing
        server.start()
        for _ in range(2):
            answer = requests.post(server.url + url, json=body, headers=headers, timeout=60)
            assert answer.status_code == 200, answer.text
        assert console_rows(console_url, "order_actions", "state = 'done'") == 1
        assert console_rows(console_url, "audit_records", f"kind = '{kind}'") == 1
        refunded, delivered = _store_state(store_url)
        if kind == "refund":
            assert (refunded, delivered) == ("4.00", ["K-1-S0"])
        else:
            assert refunded == "0.00" and len(delivered) == 1 and delivered != ["K-1-S0"]
    finally:
        server.stop()


def _console_write_locked(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    conn.execute("ROLLBACK")
    time.sleep(0.05)
    return False


def _store_state(store_url: str) -> tuple[str, list[str]]:
    from adapters.sql.store import SqlOrderStore
    store = SqlOrderStore(store_url, create=False)
    try:
        order = store.get("K-1")
        return (f"{order.refunded_amount:.2f}",
                [k.serial for k in order.card_keys if k.status == "delivered"])
    finally:
        store.close()
