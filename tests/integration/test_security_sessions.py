"""Sessions, cookies, headers and CSRF, attacked the way the probe of the demo did it."""
from __future__ import annotations

import time

from tests.conftest import PASSWORDS, csrf_from, make_app


def session_cookie(client, name: str = "__Host-kamidesk"):
    return client.get_cookie(name)


def test_session_cookie_is_host_prefixed_secure_httponly_lax(client, auth):
    response = auth.login("agent")
    header = next(v for v in response.headers.getlist("Set-Cookie")
                  if v.startswith("__Host-kamidesk="))
    parts = {p.strip().split("=")[0].lower() for p in header.split(";")}
    assert {"secure", "httponly", "path"} <= parts
    assert "samesite=lax" in header.lower() and "domain=" not in header.lower()


def test_remember_cookie_is_secure_lax_and_a_week(client):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"name": "agent", "password": PASSWORDS["agent"],
                                           "remember": "y", "csrf_token": token})
    header = next(v for v in response.headers.getlist("Set-Cookie")
                  if v.startswith("__Host-kamidesk_remember="))
    lowered = header.lower()
    assert "secure" in lowered and "httponly" in lowered and "samesite=lax" in lowered
    cookie = client.get_cookie("__Host-kamidesk_remember")
    assert cookie.expires is not None
    days = (cookie.expires.timestamp() - time.time()) / 86400
    assert 6.9 < days < 7.1


def test_plain_http_demo_setting_drops_prefix_and_secure(tmp_path):
    app = make_app(tmp_path, SECURE_COOKIES=False)
    with app.app_context():
        from console.people import save_user
        save_user("agent", "agent", PASSWORDS["agent"])
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"name": "agent", "password": PASSWORDS["agent"],
                                           "csrf_token": token})
    header = next(v for v in response.headers.getlist("Set-Cookie")
                  if v.startswith("kamidesk="))
    assert "secure" not in header.lower()
    assert client.get("/").status_code == 200


def test_login_starts_a_new_session(client, auth):
    client.get("/login")
    before = csrf_from(client.get("/login").get_data(as_text=True))
    old_cookie = session_cookie(client).value
    auth.login("agent")
    assert session_cookie(client).value != old_cookie
    # the pre-login CSRF token is worthless now: a planted (fixated) session gains nothing
    response = client.post("/api/reauth", json={"password": PASSWORDS["agent"]},
                           headers={"X-CSRFToken": before})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "csrf_failed"


def test_old_session_cookie_is_dead_after_sign_out(app, client, auth):
    """The probe: after sign-out the old cookie still read /api/orders.  Not any more."""
    auth.login("agent")
    stolen = session_cookie(client).value
    assert client.get("/api/orders/search?q=KD").status_code == 200
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("__Host-kamidesk", stolen, secure=True, path="/")
    response = thief.get("/api/orders/search?q=KD")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "authentication_required"


def test_sign_out_revokes_remember_cookies_everywhere(app, client, auth):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"name": "agent", "password": PASSWORDS["agent"],
                                "remember": "y", "csrf_token": token})
    remember = client.get_cookie("__Host-kamidesk_remember").value
    other = app.test_client()  # a second browser, signed in only by the remember cookie
    other.set_cookie("__Host-kamidesk_remember", remember, secure=True, path="/")
    assert other.get("/api/orders/search?q=KD").status_code == 200
    auth.logout()
    fresh = app.test_client()
    fresh.set_cookie("__Host-kamidesk_remember", remember, secure=True, path="/")
    assert fresh.get("/api/orders/search?q=KD").status_code == 401
    assert other.get("/api/orders/search?q=KD").status_code == 401


def test_idle_session_expires(tmp_path, monkeypatch):
    app = make_app(tmp_path, IDLE_MINUTES=30)
    with app.app_context():
        from console.people import save_user
        save_user("agent", "agent", PASSWORDS["agent"])
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"name": "agent", "password": PASSWORDS["agent"],
                                "csrf_token": token})
    assert client.get("/api/orders/search?q=KD").status_code == 200
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 29 * 60)
    assert client.get("/api/orders/search?q=KD").status_code == 200  # activity renews it
    monkeypatch.setattr(time, "time", lambda: real() + 29 * 60 + 31 * 60)
    assert client.get("/api/orders/search?q=KD").status_code == 401
    assert client.get("/").status_code == 302


def test_bearer_with_junk_value_does_not_skip_csrf(client, auth, loaded_store):
    """The probe: any ``Authorization: Bearer`` value let a cookie request skip CSRF."""
    auth.login("agent")
    order_no = loaded_store.recent(limit=1).items[0].order_no
    response = client.post(f"/api/orders/{order_no}/notes", json={"body": "forged"},
                           headers={"Authorization": "Bearer junk"})
    assert response.status_code in (400, 401)
    listed = client.get(f"/api/orders/{order_no}/notes").get_json()["notes"]
    assert all(n["body"] != "forged" for n in listed)


def test_valid_bearer_token_still_needs_no_csrf(client, token_for, loaded_store):
    order_no = loaded_store.recent(limit=1).items[0].order_no
    response = client.post(f"/api/orders/{order_no}/notes", json={"body": "by token"},
                           headers={"Authorization": f"Bearer {token_for('agent')}"})
    assert response.status_code == 201


HTML_PAGES = ("/", "/inbox", "/edit-requests", "/audit", "/login")


def test_every_html_page_sends_the_security_headers(client, auth, loaded_store):
    auth.login("supervisor")
    order_no = loaded_store.recent(limit=1).items[0].order_no
    for path in (*HTML_PAGES, f"/orders/{order_no}", "/approvals"):
        response = client.get(path)
        assert response.status_code in (200, 302), path
        csp = response.headers["Content-Security-Policy"]
        script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script_src and "'self'" in script_src, path
        assert "frame-ancestors 'none'" in csp, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_widget_page_may_be_framed_by_the_shop_only(tmp_path):
    app = make_app(tmp_path, WIDGET_ORIGINS=("https://shop.example",))
    response = app.test_client().get("/chat?embed=1")
    csp = response.headers["Content-Security-Policy"]
    ancestors = next(p for p in csp.split(";") if "frame-ancestors" in p).split()[1:]
    assert ancestors == ["'self'", "https://shop.example"]
    assert "X-Frame-Options" not in response.headers
    assert "'unsafe-inline'" not in csp


def test_proxy_fix_takes_the_client_address_from_nginx(tmp_path):
    """Behind the README's nginx every client had the proxy's address (one rate-limit key)."""
    app = make_app(tmp_path, TRUSTED_PROXIES=1, RATELIMIT_ENABLED=True,
                   LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()

    def attempt(address: str) -> int:
        token = csrf_from(client.get("/login").get_data(as_text=True))
        return client.post("/login", data={"name": f"x{address}", "password": "wrong-pass",
                                           "csrf_token": token},
                           headers={"X-Forwarded-For": address}).status_code
    assert [attempt("203.0.113.1") for _ in range(3)] == [401, 401, 429]
    assert attempt("203.0.113.2") == 401  # another client behind the same proxy is not locked
    with app.app_context():
        from console.extensions import db
        from console.models import AuditRecord
        ips = {r.ip for r in db.session.execute(db.select(AuditRecord)).scalars()}
    assert {"203.0.113.1", "203.0.113.2"} <= ips
