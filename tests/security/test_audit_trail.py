"""Audit rows say who (name and role), when (UTC), from where (IP, request id), about what
(object) and what changed (before/after without secrets); the database refuses to change
or remove them: triggers on SQLite and PostgreSQL, and on PostgreSQL the grants the README
documents leave the application's role unable to UPDATE or DELETE them at all."""
from __future__ import annotations

import uuid
from datetime import timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from console.schema import audit_grants_sql
from tests.conftest import PASSWORDS, make_app
from tests.order_factory import load, make_order


def rows(app, kind: str | None = None):
    from console.extensions import db
    from console.models import AuditRecord
    with app.app_context():
        query = db.select(AuditRecord).order_by(AuditRecord.id)
        if kind:
            query = query.where(AuditRecord.kind == kind)
        return db.session.execute(query).scalars().all()


def test_a_refund_row_has_actor_role_time_ip_request_id_object_and_before_after(app, store,
                                                                                token_for):
    load(store, make_order("R-1", status="delivered", keys=1))
    client = app.test_client()
    token = token_for("agent")
    answer = client.post("/api/orders/R-1/refund", json={"amount": "3.00", "reason": "late"},
                         headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k1",
                                  "X-Request-Id": "req-from-proxy-0001"},
                         environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.headers["X-Request-Id"] == "req-from-proxy-0001"
    [row] = rows(app, "refund")
    assert (row.actor_name, row.actor_role) == ("agent", "agent")
    assert row.at.tzinfo is not None and row.at.utcoffset() == timezone.utc.utcoffset(None)
    assert row.ip == "203.0.113.9"
    assert row.request_id == "req-from-proxy-0001"
    assert row.object == "order:R-1"
    assert row.before == {"status": "delivered", "refunded_amount": "0.00"}
    assert row.after["refunded_amount"] == "3.00"
    # an id nobody sent (or a malformed one) is made up, and still answered
    other = client.get("/api/audit?kind=refund", headers={"Authorization": f"Bearer {token_for('admin')}",
                                              "X-Request-Id": "bad id with spaces"})
    assert other.status_code == 200
    assert len(other.headers["X-Request-Id"]) == 32
    listed = other.get_json()["results"][0]
    assert listed["role"] == "agent" and listed["request_id"] == "req-from-proxy-0001"
    assert listed["before"]["status"] == "delivered" and listed["ip"] == "203.0.*.*"


def test_a_reissue_row_keeps_serials_but_never_a_secret(app, store, token_for):
    load(store, make_order("R-2", status="delivered", keys=1))
    from tests.order_factory import KEY_CARD, stock
    stock(store, KEY_CARD, 3)
    client = app.test_client()
    answer = client.post("/api/orders/R-2/reissue", json={"reason": "did not work"},
                         headers={"Authorization": f"Bearer {token_for('agent')}",
                                  "Idempotency-Key": "k2"})
    assert answer.status_code == 200, answer.get_json()
    secrets = [k["secret"] for k in answer.get_json()["action"]["new_keys"]]
    [row] = rows(app, "reissue")
    text = repr((row.detail, row.before, row.after))
    assert row.after["delivered"] and not any(s in text for s in secrets)


def test_scrub_redacts_secret_keys_and_masks_contacts_at_any_depth():
    from console.audit import REDACTED, scrub
    cleaned = scrub({"password": "hunter2", "nested": {"secret": "ABCD-1234", "phone":
                     "13812345678", "note": "call 13812345678"}, "keys": [{"token": "t"}]})
    assert cleaned["password"] == REDACTED and cleaned["nested"]["secret"] == REDACTED
    assert cleaned["keys"] == [{"token": REDACTED}]
    assert cleaned["nested"]["phone"] == "138****5678"
    assert "13812345678" not in cleaned["nested"]["note"]


def test_cli_rows_carry_a_request_id_and_the_before_state(app):
    from console.people import save_user
    with app.app_context():
        save_user("agent", "supervisor", "another-pass-1")
    row = rows(app, "user_updated")[-1]
    assert row.before == {"role": "agent", "active": True}
    assert row.after == {"role": "supervisor", "active": True}
    assert row.object == "user:agent" and row.request_id


def _tamper(engine: sa.Engine) -> list[str]:
    """Try to edit and remove history; return what the database said each time."""
    refused = []
    for statement in ("UPDATE audit_records SET actor_name = 'nobody'",
                      "DELETE FROM audit_records"):
        with engine.connect() as conn:
            try:
                conn.execute(sa.text(statement))
                conn.commit()
            except DBAPIError as exc:
                refused.append(str(exc.orig))
                conn.rollback()
    return refused


def _count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM audit_records")).scalar_one()


def test_sqlite_refuses_update_and_delete_of_audit_rows(app):
    from console.extensions import db
    with app.app_context():
        before = _count(db.engine)
        refused = _tamper(db.engine)
        assert len(refused) == 2 and all("append-only" in r for r in refused)
        assert _count(db.engine) == before > 0


def test_start_up_adds_new_audit_columns_to_an_old_table(tmp_path):
    """A console DB made before the columns existed gets them, keeping its rows."""
    url = f"sqlite:///{tmp_path / 'console.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE TABLE audit_records (id INTEGER PRIMARY KEY, at DATETIME, actor_id INTEGER,"
            " actor_name VARCHAR(80), kind VARCHAR(40), order_no VARCHAR(64), ip VARCHAR(45),"
            " detail JSON)"))
        conn.execute(sa.text("INSERT INTO audit_records (at, actor_name, kind, detail) VALUES "
                             "('2025-01-01 00:00:00', 'old', 'login', '{}')"))
    app = make_app(tmp_path, DATABASE_URL=url)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("audit_records")}
    assert {"actor_role", "object", "request_id", "before", "after"} <= columns
    assert [r.actor_name for r in rows(app)] == ["old"]
    assert _tamper(engine) and _count(engine) == 1


@pytest.mark.postgres
def test_postgres_trigger_refuses_update_delete_and_truncate_even_for_the_owner(
        tmp_path, pg_console_url):
    app = make_app(tmp_path, DATABASE_URL=pg_console_url)
    with app.app_context():
        from console.people import save_user
        save_user("agent", "agent", PASSWORDS["agent"])
    engine = sa.create_engine(pg_console_url)
    try:
        refused = _tamper(engine)
        assert len(refused) == 2 and all("append-only" in r for r in refused), refused
        with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(sa.text("TRUNCATE audit_records"))
        assert _count(engine) == 1
        # a second start (another worker) finds the guard in place and keeps it
        make_app(tmp_path / "again", DATABASE_URL=pg_console_url)
        assert len(_tamper(engine)) == 2
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_app_role_under_documented_grants_cannot_update_or_delete(
        tmp_path, pg_console_url):
    """The owner creates the schema and runs ``kamidesk audit-grants ROLE``'s SQL; the console
    then runs as ROLE: it works, appends audit rows, and the database refuses UPDATE, DELETE
    and dropping the guard, whatever the triggers' state."""
    from click.testing import CliRunner

    from console.cli import main

    owner_url = pg_console_url
    make_app(tmp_path / "owner", DATABASE_URL=owner_url)  # the owner makes the tables
    role = "kd_app_" + uuid.uuid4().hex[:8]
    printed = CliRunner().invoke(main, ["audit-grants", role], env={
        "KAMIDESK_INSTANCE": str(tmp_path / "cli"), "KAMIDESK_DATABASE_URL": owner_url})
    assert printed.exit_code == 0, printed.output
    assert printed.output == audit_grants_sql(role)
    owner = sa.create_engine(owner_url)
    with owner.begin() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(sa.text(printed.output))
    app_url = make_url(owner_url).set(username=role).render_as_string(hide_password=False)
    app = make_app(tmp_path / "app", DATABASE_URL=app_url)
    with app.app_context():
        from console.people import save_user
        save_user("agent", "agent", PASSWORDS["agent"])  # writes users and an audit row
    client = app.test_client()
    from tests.conftest import AuthActions
    assert AuthActions(client).login("agent").status_code == 302
    as_app = sa.create_engine(app_url)
    try:
        assert _count(as_app) == 2  # user_created + login
        refused = _tamper(as_app)
        assert len(refused) == 2 and all("permission denied" in r for r in refused), refused
        for ddl in ("ALTER TABLE audit_records DISABLE TRIGGER ALL",
                    "DROP TRIGGER audit_records_append_only ON audit_records"):
            with as_app.connect() as conn, pytest.raises(DBAPIError, match="owner"):
                conn.execute(sa.text(ddl))
        # the owner dropping the triggers does not give the app role its rights back
        with owner.begin() as conn:
            conn.execute(sa.text("ALTER TABLE audit_records DISABLE TRIGGER USER"))
        assert all("permission denied" in r for r in _tamper(as_app))
        assert _count(as_app) == 2
    finally:
        as_app.dispose()
        owner.dispose()
        with app.app_context():
            from console.extensions import db
            db.engine.dispose()
