"""Logs never hold a full phone, email, card-key secret, payment-proof URL or token.

The main flows run against two real serving processes on one instance: gunicorn (threads,
access log on) and ``kamidesk serve`` (werkzeug's access log, Socket.IO), both with
``KAMIDESK_LOG_LEVEL=DEBUG``; the CLI creates a token.  Every line they wrote is scanned for
every sensitive value the flows touched."""
from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
import time
import uuid
from dataclasses import replace

import pytest
import requests

from adapters.base import PaymentProof
from console.chat.identity import sign_identity
from console.log_redaction import install, redact
from tests.chat_server import ROOT, ChatClient, ChatServer, prepare_instance
from tests.order_factory import KEY_CARD, make_order, stock

pytestmark = pytest.mark.slow

PHONE, EMAIL = "13987654321", "li.na.buyer@example.com"
PROOF = "https://proofs.example.net/receipts/8f3a9c1e-proof.png"


class GunicornServer(ChatServer):
    """The production page/API pool: threaded gunicorn with its access log."""

    def _command(self) -> list[str]:
        return [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4",
                "-b", f"127.0.0.1:{self.port}", "--access-logfile", "-",
                "--error-logfile", "-", "--log-level", "debug", "wsgi:app"]


def _env_with_logs(server: ChatServer) -> None:
    base = server._env

    def env() -> dict:
        values = base()
        values["KAMIDESK_LOG_LEVEL"] = "DEBUG"
        values["KAMIDESK_SECURE_COOKIES"] = "0"  # requests sends no Secure cookie over http
        return values
    server._env = env  # type: ignore[method-assign]


def test_redact_masks_contacts_tokens_signatures_and_urls():
    line = (f'127.0.0.1 - "GET /api/orders/search?q={PHONE}&token=kd_abcdefghijkl HTTP/1.1" '
            f'200 "{PROOF}" Bearer eyJhbGciOi.abc.def mail {EMAIL} q=%2B86{PHONE} '
            f"signature=0123abcd q={EMAIL.replace('@', '%40')}")
    cleaned = redact(line)
    for secret in (PHONE, EMAIL, PROOF, "kd_abcdefghijkl", "eyJhbGciOi", "0123abcd",
                   EMAIL.replace("@", "%40")):
        assert secret not in cleaned, secret
    assert "127.0.0.1" in cleaned and "/api/orders/search" in cleaned


def test_every_record_is_masked_including_tracebacks():
    install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("console.test_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("buyer %s wrote from %s", PHONE, EMAIL)
        try:
            raise ValueError(f"proof {PROOF} for {PHONE}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "ValueError" in text and "138" not in text.replace("139****4321", "")
    assert PHONE not in text and EMAIL not in text and PROOF not in text


@pytest.fixture
def served(tmp_path):
    folder = tmp_path / "instance"
    order = replace(make_order("LOG-1", status="delivered", keys=1),
                    buyer=replace(make_order("x").buyer, phone=PHONE, email=EMAIL))
    order = replace(order, payment=replace(order.payment, proof_url=PROOF))
    assert isinstance(order.payment, PaymentProof)
    tokens = prepare_instance(folder, {"agent": "agent", "admin": "admin"}, [order])
    from console import create_app
    from tests.chat_server import _config
    app = create_app(_config(folder, None))
    with app.app_context():
        from console.store import get_store
        stock(get_store(), KEY_CARD, 2)
        get_store().close()
    servers = [GunicornServer(folder), ChatServer(folder)]
    for server in servers:
        _env_with_logs(server)
        server.start()
    yield folder, tokens, order, servers
    for server in servers:
        server.stop()


def _login(base: str, name: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    session.post(base + "/login", data={"name": name, "password": password,
                                        "csrf_token": csrf}, timeout=10)
    return session


def test_main_flows_leave_no_secret_in_any_log(served):
    folder, tokens, order, (gunicorn, werkzeug) = served
    secrets = {PHONE, EMAIL, PROOF, "agent-pass-1", "wrong-pass-9", *tokens.values()}
    created = subprocess.run(
        [sys.executable, "-m", "console.cli", "create-token", "agent"], cwd=ROOT,
        env=gunicorn._env(), capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    cli_token = created.stdout.strip().splitlines()[-1]
    secrets.add(cli_token)
    bearer = {"Authorization": f"Bearer {cli_token}"}
    for server in (gunicorn, werkzeug):
        base = server.url
        # sign-in, wrong and right
        _login(base, "agent", "wrong-pass-9")
        browser = _login(base, "agent", "agent-pass-1")
        assert browser.get(base + f"/?q={PHONE}", timeout=10).status_code == 200
        # search by full phone and email, in the query string, also with a token there
        for q in (PHONE, EMAIL, f"+86 {PHONE}", f"尾号{PHONE}"):
            got = requests.get(base + "/api/orders/search", params={"q": q}, headers=bearer,
                               timeout=10)
            assert got.status_code == 200 and got.json()["results"], q
        requests.get(base + "/api/orders", params={"token": cli_token}, timeout=10)
        assert requests.get(base + "/api/orders/search.csv", params={"q": PHONE},
                            headers=bearer, timeout=10).status_code == 200
        # detail, page and API
        assert browser.get(base + "/orders/LOG-1", timeout=10).status_code == 200
        detail = requests.get(base + "/api/orders/LOG-1", headers=bearer, timeout=10)
        assert detail.json()["payment"]["proof_url"] == PROOF
        # reveals
        key = requests.post(base + "/api/orders/LOG-1/reveal", headers=bearer, timeout=10,
                            json={"what": "key", "serial": order.card_keys[0].serial,
                                  "reason": "customer asked"}).json()
        secrets.add(key["secret"] if "secret" in key else key["key"]["secret"])
        contact = requests.post(base + "/api/orders/LOG-1/reveal", headers=bearer,
                                json={"what": "contact", "reason": "customer asked"},
                                timeout=10)
        assert contact.status_code == 200
        # money and keys
        refund = requests.post(base + "/api/orders/LOG-1/refund", timeout=10,
                               headers={**bearer, "Idempotency-Key": uuid.uuid4().hex},
                               json={"amount": "1.00", "reason": f"buyer {PHONE} asked"})
        assert refund.status_code == 200, refund.text
        # the widget: a signed identity, a wrong and a right phone tail
        ts = int(time.time())
        identity = {"user_id": "u-9", "email": EMAIL, "phone": PHONE, "ts": ts,
                    "signature": sign_identity("widget-secret", "u-9", EMAIL, PHONE, ts)}
        widget = requests.post(base + "/api/widget/sessions", json=identity, timeout=10).json()
        secrets.add(widget["token"])
        secrets.add(identity["signature"])
        wheaders = {"Authorization": f"Bearer {widget['token']}"}
        requests.post(base + "/api/widget/verify-order", headers=wheaders, timeout=10,
                      json={"order_no": "LOG-1", "phone_tail": "0000"})
        verified = requests.post(base + "/api/widget/verify-order", headers=wheaders,
                                 timeout=10, json={"order_no": "LOG-1",
                                                   "phone_tail": PHONE[-4:]})
        assert verified.status_code == 200, verified.text
    reissue = requests.post(gunicorn.url + "/api/orders/LOG-1/reissue", timeout=10,
                            headers={**bearer, "Idempotency-Key": uuid.uuid4().hex},
                            json={"reason": "key did not work"})
    assert reissue.status_code == 200, reissue.text
    secrets.update(k["secret"] for k in reissue.json()["action"]["new_keys"])
    # live chat on the Socket.IO server: the customer types a phone and an email
    widget = werkzeug.widget_session()
    secrets.add(widget["token"])
    customer = ChatClient(werkzeug.url, "/customer", widget["token"]).connect()
    agent = ChatClient(werkzeug.url, "/agent", tokens["agent"]).connect()
    try:
        cid = widget["conversation_id"]
        customer.send(cid, f"my number is {PHONE}, mail {EMAIL}")
        agent.join(cid)
        agent.send(cid, f"thanks, I see {PHONE}")
    finally:
        customer.disconnect()
        agent.disconnect()
    time.sleep(0.5)  # let the access-log lines of the last requests reach the files
    logs = {server.log.name: server.log.read_text(errors="replace")
            for server in (gunicorn, werkzeug)}
    logs["create-token stderr"] = created.stderr
    # the logs are really there: the flows above show up in both access logs
    assert "/api/orders/search" in logs[gunicorn.log.name]
    assert "/api/orders/search" in logs[werkzeug.log.name]
    assert "/socket.io/" in logs[werkzeug.log.name]
    leaks = [f"{name}: {line}" for name, text in logs.items() for line in text.splitlines()
             if any(s and s in line for s in secrets)]
    assert leaks == []
