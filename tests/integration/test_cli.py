"""The ``kamidesk`` command, run as a real subprocess against temp instance folders."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.orders_jsonl import dump_line
from adapters.sql.store import SqlOrderStore
from tests.conftest import sample_orders


def kamidesk(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, KAMIDESK_INSTANCE=str(tmp_path / "instance"),
               KAMIDESK_SECRET_KEY="cli-test")
    env.pop("KAMIDESK_DATABASE_URL", None)
    env.pop("KAMIDESK_STORE_URL", None)
    return subprocess.run([sys.executable, "-m", "console.cli", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=300)


def store_of(tmp_path: Path) -> SqlOrderStore:
    return SqlOrderStore(f"sqlite:///{tmp_path / 'instance' / 'store.db'}")


def test_import_reports_bad_lines_and_loads_the_good_ones(tmp_path):
    good = sample_orders(30, seed=3)
    lines = [dump_line(o) for o in good[:10]]
    bad = {
        "{not json": "JSON",
        json.dumps({"status": "paid"}): "order_no",
        json.dumps({**json.loads(dump_line(good[10])), "amount_paid": "-5.00"}): "negative",
        json.dumps({**json.loads(dump_line(good[11])), "status": "teleported"}): "status",
        json.dumps({**json.loads(dump_line(good[12])), "quantity": "two"}): "quantity",
        json.dumps({**json.loads(dump_line(good[13])),
                    "product": {**json.loads(dump_line(good[13]))["product"],
                                "category": "spaceship"}}): "category",
        dump_line(good[0]): "duplicate",
    }
    lines.extend(bad)
    lines.extend(dump_line(o) for o in good[14:20])
    path = tmp_path / "orders.jsonl"
    data = ("\n".join(lines) + "\n").encode() + b"\xff\xfe not utf-8\n"
    path.write_bytes(data)

    result = kamidesk(tmp_path, "import-orders", str(path), "--quiet")

    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith(str(path))]
    assert len(errors) == len(bad) + 1
    for number, (line, word) in enumerate(bad.items(), start=11):
        reported = next(e for e in errors if e.startswith(f"{path}:{number}:"))
        assert word.lower() in reported.lower(), reported
    assert f"{path}:{len(lines) + 1}:" in errors[-1]
    assert "loaded 16 orders" in result.stdout
    store = store_of(tmp_path)
    assert store.count() == 16
    for order in good[:10] + good[14:20]:
        assert store.get(order.order_no).status == order.status


def test_import_is_safe_to_rerun(tmp_path):
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(dump_line(o) + "\n" for o in sample_orders(25, seed=4)),
                    encoding="utf-8")
    first = kamidesk(tmp_path, "import-orders", str(path), "--quiet")
    second = kamidesk(tmp_path, "import-orders", str(path), "--quiet")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert store_of(tmp_path).count() == 25


def test_create_user_and_token(tmp_path):
    made = kamidesk(tmp_path, "create-user", "lin", "--role", "supervisor", "--password-stdin",
                    stdin="a-long-password\n")
    assert made.returncode == 0, made.stderr
    assert "created supervisor lin" in made.stdout
    token = kamidesk(tmp_path, "create-token", "lin")
    assert token.returncode == 0, token.stderr
    last = token.stdout.strip().splitlines()[-1]
    assert last.startswith("kd_") and len(last) > 30

    from tests.conftest import make_app
    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'instance' / 'console.db'}")
    response = app.test_client().get("/api/orders", headers={"Authorization": f"Bearer {last}"})
    assert response.status_code == 200


def test_tokens_can_be_listed_and_revoked(tmp_path):
    kamidesk(tmp_path, "create-user", "wu", "--role", "agent", "--password-stdin",
             stdin="a-long-password\n")
    plain = kamidesk(tmp_path, "create-token", "wu", "--label", "crm").stdout.split()[-1]
    listed = kamidesk(tmp_path, "list-tokens", "wu")
    assert "active" in listed.stdout and plain[-6:] in listed.stdout and plain not in listed.stdout
    token_id = listed.stdout.split()[0]
    assert kamidesk(tmp_path, "revoke-token", token_id).returncode == 0
    assert "revoked" in kamidesk(tmp_path, "list-tokens", "wu").stdout
    assert kamidesk(tmp_path, "revoke-token", token_id).returncode != 0

    from tests.conftest import make_app
    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'instance' / 'console.db'}")
    response = app.test_client().get("/api/orders", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 401


def test_create_user_refuses_short_passwords_and_unknown_roles(tmp_path):
    short = kamidesk(tmp_path, "create-user", "x", "--role", "agent", "--password-stdin",
                     stdin="short\n")
    assert short.returncode != 0 and "8 characters" in short.stderr
    role = kamidesk(tmp_path, "create-user", "x", "--role", "boss", "--password-stdin",
                    stdin="long-enough\n")
    assert role.returncode != 0 and "boss" in role.stderr


def test_create_token_for_unknown_user_fails(tmp_path):
    result = kamidesk(tmp_path, "create-token", "nobody")
    assert result.returncode != 0
    assert "no user named" in result.stderr
    assert "must be an existing user" in result.stderr
    assert "kamidesk create-user nobody --role agent" in result.stderr
    assert "Traceback" not in result.stderr


def test_create_token_names_the_users_that_exist(tmp_path):
    kamidesk(tmp_path, "create-user", "lin", "--role", "agent", "--password-stdin",
             stdin="long-enough\n")
    result = kamidesk(tmp_path, "create-token", "lni")
    assert result.returncode != 0
    assert "Existing users: lin." in result.stderr
    assert result.stdout == ""
    help_text = kamidesk(tmp_path, "create-token", "--help").stdout
    assert "NAME must be an existing user" in help_text


@pytest.mark.slow
def test_demo_prepares_store_and_logins_and_reuses_them(tmp_path):
    first = kamidesk(tmp_path, "demo", "--orders", "500", "--no-serve")
    assert first.returncode == 0, first.stderr
    assert "500 generated now" in first.stdout
    for name in ("agent", "supervisor", "admin"):
        assert name in first.stdout
    second = kamidesk(tmp_path, "demo", "--orders", "500", "--no-serve")
    assert "(0 generated now)" in second.stdout
    from adapters.demo_data import watch_scenario
    assert store_of(tmp_path).count() == 500 + len(list(watch_scenario()))


def test_store_indexes_prints_the_dujiaoka_ddl_for_the_configured_store(tmp_path):
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "kamidesk.cfg").write_text("STORE = dujiaoka\n", encoding="utf-8")
    done = kamidesk(tmp_path, "store-indexes")
    assert done.returncode == 0, done.stderr
    statements = [line for line in done.stdout.splitlines() if not line.startswith("--")]
    assert "ALTER TABLE orders ADD INDEX kd_orders_trade_no (trade_no);" in statements
    assert "ALTER TABLE orders ADD INDEX kd_orders_buy_ip (buy_ip);" in statements
    assert "ALTER TABLE orders ADD FULLTEXT INDEX kd_orders_info (info);" in statements
    assert any(line.startswith("CREATE TABLE IF NOT EXISTS kamidesk_actions") for line in statements)
    reference = kamidesk(tmp_path, "store-indexes", "--store", "sql")
    assert reference.returncode == 0 and "nothing to add" in reference.stdout
    unknown = kamidesk(tmp_path, "store-indexes", "--store", "nosuch")
    assert unknown.returncode == 2 and "unknown order store" in unknown.stderr
