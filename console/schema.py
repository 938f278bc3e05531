"""The console database's schema at start-up, without a migration tool.

``create_all`` makes missing tables; it never changes a table that exists.  Columns added
to a model after its first release are nullable, so :func:`add_missing_columns` can add them
to an older table with a plain ``ALTER TABLE ... ADD COLUMN``; nothing is ever dropped or
retyped.  :func:`protect_audit_trail` makes the audit table append-only in the database
itself, so even a bug (or an intruder holding the application's connection) cannot edit
history: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).  On PostgreSQL the
stronger guard is a separate owner role with :func:`audit_grants_sql` for the application's
role; the triggers alone can be dropped by whoever owns the table.
"""
from __future__ import annotations

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from console.chat import history
from console.extensions import db

AUDIT_TABLE = "audit_records"
PG_FUNCTION = "kamidesk_audit_append_only"
PG_TRIGGER = "audit_records_append_only"
PG_TRUNCATE_TRIGGER = "audit_records_no_truncate"
# any constant both processes agree on: serialises start-ups that install the triggers
PG_LOCK_KEY = 7_202_611_12


def prepare_schema() -> None:
    """Tables, late columns, the audit trail's guard and the conversations' summaries; safe to run on every start, from
    several processes at once, and by a role that may only read and write rows."""
    db.create_all()
    engine = db.engine
    add_missing_columns(engine)
    protect_audit_trail(engine)
    history.backfill(engine)  # summaries for conversations older than their table


def add_missing_columns(engine: Engine) -> list[str]:
    """``ALTER TABLE ADD COLUMN`` for model columns an older table lacks; returns them."""
    inspector = inspect(engine)
    added: list[str] = []
    for table in db.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present or not column.nullable:
                continue
            kind = column.type.compile(dialect=engine.dialect)
            quote = engine.dialect.identifier_preparer.quote
            statement = f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} {kind}"
            try:
                with engine.begin() as conn:
                    conn.execute(text(statement))
            except DBAPIError:
                # another process added it first; anything else shows at the first query
                if column.name not in {c["name"] for c in inspect(engine).get_columns(
                        table.name)}:
                    raise
            added.append(f"{table.name}.{column.name}")
    return added


def protect_audit_trail(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            for verb in ("UPDATE", "DELETE"):
                conn.execute(text(
                    f"CREATE TRIGGER IF NOT EXISTS audit_records_no_{verb.lower()} "
                    f"BEFORE {verb} ON {AUDIT_TABLE} BEGIN "
                    f"SELECT RAISE(ABORT, 'audit records are append-only: {verb} refused'); "
                    "END"))
    elif engine.dialect.name == "postgresql":
        _protect_on_postgres(engine)


def _protect_on_postgres(engine: Engine) -> None:
    with engine.connect() as conn:
        have = set(conn.execute(text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(:table)"),
            {"table": AUDIT_TABLE}).scalars())
    if {PG_TRIGGER, PG_TRUNCATE_TRIGGER} <= have:
        return  # the usual start-up, and the only one open to a role without DDL rights
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
        conn.execute(text(
            f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit records are append-only: % refused', TG_OP "
            "USING ERRCODE = 'insufficient_privilege'; END $$"))
        conn.execute(text(
            f"CREATE OR REPLACE TRIGGER {PG_TRIGGER} BEFORE UPDATE OR DELETE ON {AUDIT_TABLE} "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"))
        conn.execute(text(
            f"CREATE OR REPLACE TRIGGER {PG_TRUNCATE_TRIGGER} BEFORE TRUNCATE ON {AUDIT_TABLE} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"))


def audit_grants_sql(role: str) -> str:
    """What the owner of the console database runs (once, and after each upgrade that adds
    tables) so the application's role ``role`` may read and write every table but only
    read and append to the audit trail."""
    quoted = '"' + role.replace('"', '""') + '"'
    return "\n".join([
        f"GRANT USAGE ON SCHEMA public TO {quoted};",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted};",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted};",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {AUDIT_TABLE} FROM {quoted};",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE "
        f"ON TABLES TO {quoted};",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES "
        f"TO {quoted};",
    ]) + "\n"
