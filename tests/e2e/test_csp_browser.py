"""The Content-Security-Policy in a real Chromium: no page of the console breaks under it
(a violation fails silently in the page, so the browser's reports are collected), and the
password prompt of a stale login works under it."""
from __future__ import annotations

import time

import pytest

from tests.conftest import PASSWORDS
from tests.e2e.test_order_detail_browser import ORDER_NO, SECRET, live_server  # noqa: F401

pytestmark = pytest.mark.browser

COLLECT = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""
PAGES = ("/", "/?q=KDE2E", f"/orders/{ORDER_NO}", "/inbox", "/edit-requests", "/approvals",
         "/audit", "/supervisor", "/chat", "/chat?embed=1")


def sign_in(page, url: str, name: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("#signin")
    page.wait_for_load_state("load")


def watch(page) -> list[str]:
    errors: list[str] = []
    page.add_init_script(COLLECT)
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text else None)
    return errors


def test_no_page_violates_the_policy(page, live_server):  # noqa: F811
    url, _ = live_server
    console_errors = watch(page)
    page.goto(f"{url}/login")
    assert page.evaluate("window.__csp") == []
    sign_in(page, url, "supervisor")
    for path in PAGES:
        response = page.goto(url + path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__csp") == [], path
    assert console_errors == []


def test_the_collector_sees_a_violation(page, live_server):  # noqa: F811
    """So the test above can fail: an inline handler injected into a page is blocked."""
    url, _ = live_server
    console_errors = watch(page)
    sign_in(page, url, "agent")
    page.evaluate("""document.body.insertAdjacentHTML('beforeend',
                     '<img src="/static/none.png" onerror="window.__ran = 1">')""")
    page.wait_for_function("() => window.__csp.length > 0")
    assert page.evaluate("window.__ran") is None
    assert any("script-src" in v for v in page.evaluate("window.__csp"))
    assert console_errors


def test_a_stale_login_types_the_password_again_to_reveal(page, live_server,  # noqa: F811
                                                         monkeypatch):
    url, app = live_server
    sign_in(page, url, "agent")
    page.goto(f"{url}/orders/{ORDER_NO}")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 11 * 60)  # the server runs here too
    row = page.locator("#card-keys tbody tr").first
    row.locator("button.reveal").click()
    page.fill("#reveal-reason", "customer says the key is dead")
    page.click("#reveal-confirm")
    page.wait_for_selector("#reauth-dialog[open]")
    page.fill("#reauth-password", "wrong-password")
    page.click("#reauth-confirm")
    page.wait_for_function("() => document.querySelector('#reauth-dialog .reauth-error').textContent")
    page.fill("#reauth-password", PASSWORDS["agent"])
    page.click("#reauth-confirm")
    page.wait_for_function(
        "s => document.querySelector('#card-keys tbody tr .secret').textContent === s", arg=SECRET)
    with app.app_context():
        from console.extensions import db
        from console.models import AuditRecord
        kinds = [r.kind for r in db.session.execute(
            db.select(AuditRecord).order_by(AuditRecord.id)).scalars()]
    assert kinds[-3:] == ["login_failed", "reauth", "reveal_key"]
