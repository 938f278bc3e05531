"""The Simplified Chinese catalogue: complete, compilable, in step with the source, and
actually served — by the browser's languages before sign-in and by the agent's own
choice (the language switch) after it."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.conftest import csrf_from

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "console" / "translations"
PO = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sd]|%[sd]|\{[A-Za-z_][A-Za-z0-9_]*\}")
HAN = re.compile(r"[\u4e00-\u9fff]")


def compile_catalogue() -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "compile", "-d", str(TRANSLATIONS)],
        cwd=ROOT, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogue():
    """Build the .mo when it is missing or older than the .po (a fresh clone has none).

    Flask-Babel caches loaded catalogues on the process-wide ``babel`` object, so after a
    rebuild that cache is dropped: the pages below must see the catalogue just compiled.
    """
    if not MO.exists() or MO.stat().st_mtime < PO.stat().st_mtime:
        done = compile_catalogue()
        assert done.returncode == 0, done.stderr
        from console.extensions import babel
        babel.__dict__.pop("domain_instance", None)
    return MO


def po_messages():
    with PO.open("rb") as f:
        catalogue = read_po(f)
    return catalogue, [m for m in catalogue if m.id]


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


# ---- the catalogue itself -------------------------------------------------------------

def test_catalogue_compiles_cleanly():
    done = compile_catalogue()
    assert done.returncode == 0, done.stderr
    assert "error" not in done.stderr.lower(), done.stderr
    with MO.open("rb") as f:
        compiled = read_mo(f)
    assert compiled.get("Sign in").string == "登录"
    assert compiled.get("Order no.").string == "订单号"


def test_every_message_is_translated_with_the_same_placeholders():
    catalogue, messages = po_messages()
    assert len(messages) > 100, "the catalogue looks empty: run `make messages`"
    assert catalogue.num_plurals == 1, "Chinese has one plural form"
    problems = []
    for m in messages:
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if m.fuzzy:
            problems.append(f"fuzzy (compiled as English): {ids[0]!r}")
        if not all(s.strip() for s in strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        for s in strings:
            # Every plural form of the msgid carries the same names; compare with the last.
            if placeholders(ids[-1]) != placeholders(s):
                problems.append(f"placeholders differ: {ids[-1]!r} -> {s!r}")
    assert not problems, "\n".join(problems)


def test_catalogue_holds_every_string_in_the_source(tmp_path):
    """A string wrapped in _() after the last `make messages` would show up in English."""
    pot = tmp_path / "messages.pot"
    done = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-k", "_t", "-o", str(pot), "."],
        cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    with pot.open("rb") as f:
        source_ids = {m.id for m in read_po(f) if m.id}
    _, messages = po_messages()
    missing = sorted(str(i) for i in source_ids - {m.id for m in messages})
    assert not missing, ("not in the zh_CN catalogue (run `make messages` and translate):\n"
                         + "\n".join(missing))


# ---- the language the pages are served in ---------------------------------------------

def html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, "no <html lang=...>"
    return match.group(1)


def test_login_page_follows_the_browser_language(client):
    zh = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    text = zh.get_data(as_text=True)
    assert zh.status_code == 200
    assert "登录" in text and "用户名" in text and "密码" in text
    assert ">Sign in<" not in text
    assert html_lang(text) == "zh-CN"

    en = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    text = en.get_data(as_text=True)
    assert "Sign in" in text and "User name" in text
    assert not HAN.search(text.replace("简体中文", "")), "Chinese on the English page"
    assert html_lang(text) == "en"


def test_failed_sign_in_message_is_translated(client):
    token = csrf_from(client.get("/login", headers={"Accept-Language": "zh-CN"})
                      .get_data(as_text=True))
    answer = client.post("/login", headers={"Accept-Language": "zh-CN"},
                         data={"name": "agent", "password": "wrong", "csrf_token": token})
    assert answer.status_code == 401
    assert "用户名或密码错误。" in answer.get_data(as_text=True)


def switch_language(client, code: str, back_to: str = "/"):
    token = csrf_from(client.get(back_to).get_data(as_text=True))
    return client.post(f"/language/{code}", data={"csrf_token": token, "next": back_to})


def test_language_switch_turns_the_console_chinese(client, auth, loaded_store, demo_orders):
    assert auth.login("agent").status_code == 302
    home = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert html_lang(home) == "en" and "Sign out" in home

    answer = switch_language(client, "zh_CN")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/")

    home = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert html_lang(home) == "zh-CN"
    for words in ("搜索订单", "退出登录", "订单号", "最新订单"):
        assert words in home, words
    assert "Sign out" not in home

    order = demo_orders[0]
    page = client.get(f"/orders/{order.order_no}", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html_lang(text) == "zh-CN"
    assert order.order_no in text
    for words in ("时间线", "支付凭证", "客服备注", "复制订单号"):
        assert words in text, words
    assert "Timeline" not in text and "Agent notes" not in text


def test_language_choice_is_kept_on_the_account(app, client, auth):
    """The choice follows the agent to another browser that asks for English."""
    auth.login("agent")
    switch_language(client, "zh_CN")

    other = app.test_client()
    token = csrf_from(other.get("/login").get_data(as_text=True))
    other.post("/login", data={"name": "agent", "password": "agent-pass-1",
                               "csrf_token": token})
    home = other.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert html_lang(home) == "zh-CN" and "退出登录" in home

    switch_language(other, "en")
    home = other.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert html_lang(home) == "en" and "Sign out" in home


def test_unknown_language_code_changes_nothing(client, auth):
    auth.login("agent")
    switch_language(client, "xx")
    home = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert html_lang(home) == "en"
