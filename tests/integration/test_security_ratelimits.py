"""Abuse limits with their real storage: brute-forcing a login, flooding widget sessions
and searches, and Redis going away under the limiter."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from console.extensions import db
from console.models import AuditRecord
from console.ratelimits import storage_uri
from tests.conftest import PASSWORDS, csrf_from, make_app
from tests.e2e.live import serving


def with_agent(app):
    with app.app_context():
        from console.people import save_user
        save_user("agent", "agent", PASSWORDS["agent"])
    return app


def login(client, password: str, name: str = "agent", address: str = "198.51.100.7"):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def test_demo_defaults_lock_an_account_after_five_wrong_passwords(tmp_path):
    """Default settings (the demo's): five wrong passwords from five addresses, then even
    the right password waits, with a lockout message and an audit row."""
    app = with_agent(make_app(tmp_path, RATELIMIT_ENABLED=True))
    client = app.test_client()
    wrong = [login(client, "guess-%d" % i, address=f"203.0.113.{i}").status_code
             for i in range(5)]
    assert wrong == [401] * 5
    locked = login(client, PASSWORDS["agent"], address="203.0.113.99")
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.get_data(as_text=True)
    assert int(locked.headers["Retry-After"]) > 60
    assert client.get("/").status_code == 302  # not signed in
    with app.app_context():
        kinds = [r.kind for r in db.session.execute(db.select(AuditRecord)).scalars()]
    assert kinds.count("login_failed") == 5 and "login_locked" in kinds


def test_a_right_password_clears_the_account_counter(tmp_path):
    app = with_agent(make_app(tmp_path, RATELIMIT_ENABLED=True))
    client = app.test_client()
    for i in range(4):
        assert login(client, f"guess-{i}", address=f"203.0.113.{i}").status_code == 401
    assert login(client, PASSWORDS["agent"]).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    assert login(client, "guess-x", address="203.0.113.50").status_code == 401


def test_parallel_guesses_cannot_all_slip_under_the_account_limit(tmp_path):
    app = with_agent(make_app(tmp_path, RATELIMIT_ENABLED=True, SECURE_COOKIES=False,
                              LOGIN_RATE_LIMIT="1000 per minute"))  # requests: plain http
    with serving(app) as base:
        pages = [requests.Session() for _ in range(12)]
        tokens = [csrf_from(s.get(f"{base}/login", timeout=10).text) for s in pages]
        start = threading.Barrier(len(pages))

        def guess(i: int) -> int:
            start.wait()
            return pages[i].post(f"{base}/login", timeout=60, data={
                "name": "agent", "password": f"guess-{i}", "csrf_token": tokens[i]}).status_code
        with ThreadPoolExecutor(len(pages)) as pool:
            statuses = list(pool.map(guess, range(len(pages))))
    assert statuses.count(401) == 5 and statuses.count(429) == 7


def test_widget_sessions_per_address(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, WIDGET_SESSION_LIMIT="3 per minute")
    client = app.test_client()
    answers = [client.post("/api/widget/sessions", json={},
                           environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code
               for _ in range(4)]
    assert answers == [201, 201, 201, 429]
    refused = client.post("/api/widget/sessions", json={},
                          environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert client.post("/api/widget/sessions", json={},
                       environ_base={"REMOTE_ADDR": "198.51.100.10"}).status_code == 201


def test_search_per_agent(tmp_path):
    app = with_agent(make_app(tmp_path, RATELIMIT_ENABLED=True, SEARCH_RATE_LIMIT="3 per minute"))
    from console.people import issue_token
    with app.app_context():
        token = issue_token("agent")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    answers = [client.get("/api/orders/search?q=KD", headers=headers).status_code
               for _ in range(3)]
    answers.append(client.get("/api/orders/search.csv?q=KD", headers=headers).status_code)
    assert answers == [200, 200, 200, 429]


@pytest.fixture
def redis_limits(redis_server):
    import redis
    redis.Redis.from_url(redis_server.url).flushdb()
    return redis_server


def test_limits_in_redis_hold_across_processes(tmp_path, redis_limits):
    """Two apps (two worker processes) share one budget through Redis."""
    apps = [with_agent(make_app(tmp_path / str(i), RATELIMIT_ENABLED=True,
                                RATELIMIT_STORAGE=redis_limits.url,
                                WIDGET_SESSION_LIMIT="4 per minute")) for i in range(2)]
    clients = [a.test_client() for a in apps]
    answers = [clients[i % 2].post("/api/widget/sessions", json={}).status_code
               for i in range(6)]
    assert answers == [201] * 4 + [429] * 2


def test_redis_down_refuses_instead_of_letting_everything_through(tmp_path, redis_limits):
    app = with_agent(make_app(tmp_path, RATELIMIT_ENABLED=True,
                              RATELIMIT_STORAGE=redis_limits.url))
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    redis_limits.stop()
    try:
        answer = client.post("/login", data={"name": "agent", "password": PASSWORDS["agent"],
                                             "csrf_token": token})
        assert answer.status_code == 503
        assert client.get("/").status_code == 302  # nobody was signed in unlimited
        widget = client.post("/api/widget/sessions", json={})
        assert widget.status_code == 503
        assert widget.get_json()["error"]["code"] == "rate_limit_unavailable"
    finally:
        redis_limits.start()
    assert login(client, PASSWORDS["agent"]).status_code == 302


def test_the_redis_queue_is_the_default_limit_storage():
    assert storage_uri({"MESSAGE_QUEUE": "redis://q:6379/0"}) == "redis://q:6379/0"
    assert storage_uri({"MESSAGE_QUEUE": None}) == "memory://"
    assert storage_uri({"MESSAGE_QUEUE": "redis://q", "RATELIMIT_STORAGE": "redis://l"}) == \
        "redis://l"


def test_chat_limit_still_holds_in_process_while_redis_is_down(tmp_path, redis_limits):
    """Chat keeps working without Redis (messages are stored first), but the per-customer
    limit does not vanish with it: the process counts on its own meanwhile."""
    from console.ratelimits import spend
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE=redis_limits.url,
                   CHAT_MESSAGE_LIMIT="2 per minute")
    redis_limits.stop()
    try:
        with app.app_context():
            waits = [spend("CHAT_MESSAGE_LIMIT", "conversation", 7, local_fallback=True)
                     for _ in range(3)]
            with pytest.raises(Exception):
                spend("CHAT_MESSAGE_LIMIT", "conversation", 7)  # HTTP limits refuse instead
    finally:
        redis_limits.start()
    assert waits[:2] == [0, 0] and waits[2] > 0
