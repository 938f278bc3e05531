"""Every screen in 简体中文 on a filled demo desk: no string of the catalogue left in English,
no timeline line or tag in English, every audit code in words.

The screens are found from the app's own URL map, so a page someone adds later is checked
too (its ``<order_no>`` filled with demo orders of every status).
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from console.code_labels import humanise
from console.orders.event_text import RAW_LOG_KINDS
from console.orders.tags import TAG_LABELS_ZH
from tests.conftest import csrf_from

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "console" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
TEXT_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "label")
SKIPPED_PREFIXES = ("/api/", "/static/", "/socket.io", "/healthz", "/favicon", "/language",
                    "/logout", "/login")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}")
# What the shop or its agents wrote (canned replies) is content, not the console's words.
CONTENT_CLASSES = frozenset({"canned-list"})
CONTENT_KEYS = ("canned",)
# Two English words in a row: what an untranslated sentence leaves in a Chinese page.
ENGLISH_WORDS = re.compile(r"\b[A-Za-z]{2,}(?:[ -][A-Za-z]{2,})+\b")


class PageText(HTMLParser):
    """Visible text, the text attributes, and the JSON the page hands its scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.by_class: dict[str, list[str]] = defaultdict(list)
        self._stack: list[tuple[str, list[str]]] = []
        self._json: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name in TEXT_ATTRIBUTES:
            if values.get(name):
                self.texts.append(values[name])
        if tag == "script":
            self._json = [] if values.get("type") == "application/json" else None
            self._skip += 1
        elif tag == "style":
            self._skip += 1
        if tag not in ("br", "img", "input", "meta", "link", "hr", "option"):
            self._stack.append((tag, (values.get("class") or "").split()))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
            if tag == "script" and self._json is not None:
                self._collect_json(json.loads("".join(self._json)))
                self._json = None
        while self._stack:
            open_tag, _ = self._stack.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self._skip:
            if self._json is not None:
                self._json.append(data)
            return
        text = " ".join(data.split())
        if text and any(c in CONTENT_CLASSES for _, classes in self._stack for c in classes):
            return
        if text:
            self.texts.append(text)
            for _, classes in self._stack:
                for name in classes:
                    self.by_class[name].append(text)

    def _collect_json(self, value):
        if isinstance(value, dict):
            for key, item in value.items():
                if not str(key).startswith(CONTENT_KEYS):
                    self._collect_json(item)
        elif isinstance(value, list):
            for item in value:
                self._collect_json(item)
        elif isinstance(value, str):
            self.texts.append(value)


def parse(html: str) -> PageText:
    parser = PageText()
    parser.feed(html)
    return parser


def english_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Each msgid whose Chinese differs, as a whole-text pattern (placeholders as wildcards)."""
    with PO.open("rb") as f:
        catalogue = read_po(f)
    patterns = []
    for message in catalogue:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            literal = PLACEHOLDER.sub("", msgid)
            if len(re.findall(r"[A-Za-z]", literal)) < 3 or msgid in strings:
                continue
            parts = PLACEHOLDER.split(msgid)
            body = ".+?".join(re.escape(re.sub(r"\s+", " ", p)) for p in parts)
            patterns.append((msgid, re.compile(rf"^{body}$")))
    return patterns


def untranslated(texts: list[str], patterns) -> list[str]:
    found = []
    for text in set(texts):
        for msgid, pattern in patterns:
            if pattern.match(text):
                found.append(f"{text!r} (msgid {msgid!r})")
                break
    return found


# --- the desk ---------------------------------------------------------------------------------

@pytest.fixture
def zh_desk(app, client, auth, loaded_store, demo_orders):
    """The demo desk (canned replies, pending refund, edit request, waiting chat), a few agent
    tags and audit records, and a supervisor reading it all in Chinese."""
    from console.demo_seed import seed_demo_desk
    from console.extensions import db
    from console.orders.tags import add_tag
    from console.people import find_user, issue_token

    with app.app_context():
        report = seed_demo_desk(loaded_store, db.session)
        assert (report.canned, report.refunds, report.edit_requests, report.chats) != (0, 0, 0, 0)
        agent = find_user("agent")
        for order in demo_orders[:3]:
            add_tag(loaded_store, order.order_no, "repeat buyer", agent, db.session)
        issue_token("agent", "zh test")
    assert auth.login("supervisor").status_code == 302
    token = csrf_from(client.get("/").get_data(as_text=True))
    client.post("/language/zh_CN", data={"csrf_token": token, "next": "/"})
    return app


def step_details(html: str) -> list[tuple[str, str]]:
    """(kind, detail text) of each timeline step on an order page."""
    out = []
    for chunk in html.split('<li class="step ')[1:]:
        kind = re.search(r'data-kind="([^"]+)"', chunk)[1]
        detail = re.search(r'<div class="step-detail">(.*?)</div>', chunk.split("</li>")[0], re.S)
        if detail:
            out.append((kind, unescape(detail[1]).strip()))
    return out


def orders_of_every_status(orders) -> list:
    seen: dict[str, object] = {}
    for order in orders:
        seen.setdefault(order.status, order)
        if order.card_keys and "keys" not in seen:
            seen["keys"] = order
    return list(seen.values())


def screens(app, orders) -> list[str]:
    """Every HTML screen of the app: rules without arguments, order pages for each status."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(SKIPPED_PREFIXES):
            continue
        if not rule.arguments:
            urls.append(rule.rule)
        elif rule.arguments == {"order_no"}:
            urls.extend(rule.rule.replace("<order_no>", o.order_no) for o in orders)
        elif rule.rule == "/orders/<order_no>/related/<which>":
            urls.extend(f"/orders/{o.order_no}/related/same_buyer" for o in orders)
    return sorted(set(urls))


def test_every_screen_reads_in_chinese(zh_desk, client, demo_orders):
    orders = orders_of_every_status(demo_orders)
    urls = screens(zh_desk, orders)
    assert "/" in urls and "/inbox" in urls and "/audit" in urls and "/approvals" in urls
    assert any(u.startswith("/orders/") for u in urls)
    assert any(u.endswith("/related/same_buyer") for u in urls)
    patterns = english_patterns()
    problems = []
    for url in urls:
        answer = client.get(url)
        if answer.status_code in (301, 302, 404) or answer.mimetype != "text/html":
            continue
        html = answer.get_data(as_text=True)
        assert '<html lang="zh-CN">' in html, url
        problems += [f"{url}: {p}" for p in untranslated(parse(html).texts, patterns)]
    assert not problems, "English on Chinese screens:\n" + "\n".join(sorted(problems))


def test_widget_page_reads_in_chinese(client):
    html = client.get("/chat", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    problems = untranslated(parse(html).texts, english_patterns())
    assert not problems, "\n".join(problems)


def test_timeline_lines_and_tags_read_in_chinese(zh_desk, client, demo_orders):
    """Every generated order's story: lines worded in Chinese, values kept; tags in Chinese."""
    checked = 0
    for order in demo_orders[:120]:
        html = client.get(f"/orders/{order.order_no}").get_data(as_text=True)
        page = parse(html)
        details = [line for kind, line in step_details(html) if kind not in RAW_LOG_KINDS]
        raw = [e.detail for e in order.events if e.detail and e.kind not in RAW_LOG_KINDS]
        for line in details:
            text = line
            for value in (order.product.name, order.supplier or "", order.buyer.email or ""):
                text = text.replace(value, "") if value else text
            leftover = ENGLISH_WORDS.findall(text)
            assert not leftover, f"{order.order_no}: {line!r} keeps English {leftover}"
        assert len(details) >= len(raw) - 2, (order.order_no, details, raw)
        chips = page.by_class["chip"]
        english_tags = [t for t in chips if t.lstrip("+ ").strip() in TAG_LABELS_ZH]
        assert not english_tags, f"{order.order_no}: tags in English {english_tags}"
        checked += len(details)
    assert checked > 300, "too few timeline lines to prove anything"


def test_suggested_tags_show_chinese_and_add_the_agreed_spelling(zh_desk, client, demo_orders):
    order = demo_orders[5]
    html = client.get(f"/orders/{order.order_no}").get_data(as_text=True)
    assert 'data-tag="suspicious">+ 可疑</button>' in html
    token = csrf_from(html)
    answer = client.post(f"/api/orders/{order.order_no}/tags", json={"tag": "suspicious"},
                         headers={"X-CSRFToken": token})
    body = answer.get_json()
    assert "suspicious" in body["agent_tags"]
    assert body["labels"]["suspicious"] == "可疑"


def test_audit_codes_read_as_words(zh_desk, client):
    html = client.get("/audit").get_data(as_text=True)
    rows = re.findall(r'<tr data-kind="([a-z_]+)">.*?<td title="\1">([^<]+)</td>', html, re.S)
    kinds = {kind for kind, _ in rows}
    assert {"token_created", "user_created", "refund_requested", "edit_requested"} <= kinds
    for kind, shown in rows:
        assert re.search(r"[\u4e00-\u9fff]", shown), f"{kind} shown as {shown!r}"
    assert "全部操作" in html and ">any<" not in html


def test_every_audit_code_in_the_source_has_words():
    """A new ``audit.record("...")`` without a label would show up as raw words on the page."""
    from console.code_labels import ACTION_LABELS, OUTCOME_LABELS, is_labelled

    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "console").rglob("*.py"))
    literal = set(re.findall(r"""\b(?:record|audit)\(\s*["']([a-z_]+)["']""", source))
    literal |= set(re.findall(r"""record\(\s*["']([a-z_]+)["']\s+if""", source))
    literal |= set(re.findall(r"""\belse\s+["']([a-z_]+)["'],\s*actor""", source))
    constants = set(re.findall(r"""^REVEAL_[A-Z]+ = ["']([a-z_]+)["']""", source, re.M))
    outcomes = {f"{a}_{o}" for a in ACTION_LABELS for o in OUTCOME_LABELS}
    kinds = literal | constants | outcomes
    assert {"token_created", "user_created", "login", "reveal_key", "incident_closed"} <= kinds
    missing = sorted(k for k in kinds if not is_labelled(k))
    assert not missing, f"audit codes without words in console/code_labels.py: {missing}"
    assert humanise("stock_alert_sent") == "Stock alert sent"
