"""``kamidesk retention``: chats and console records older than the period are removed or
anonymised, recent ones untouched, audit rows kept; the dry run changes nothing; on SQLite
and PostgreSQL, through the real command."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from console.retention import BadPeriod, cutoff_for
from tests.conftest import make_app

NOW = datetime.now(timezone.utc)
OLD = NOW - timedelta(days=3 * 365)
RECENT = NOW - timedelta(days=30)
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def test_periods_are_calendar_years_months_weeks_and_days():
    at = datetime(2026, 2, 28, 12, tzinfo=timezone.utc)
    assert cutoff_for("2y", at) == datetime(2024, 2, 28, 12, tzinfo=timezone.utc)
    assert cutoff_for("18m", at) == datetime(2024, 8, 28, 12, tzinfo=timezone.utc)
    assert cutoff_for("1m", datetime(2026, 3, 31, tzinfo=timezone.utc)) == \
        datetime(2026, 2, 28, tzinfo=timezone.utc)
    assert cutoff_for("6w", at) == at - timedelta(weeks=6)
    assert cutoff_for("90D", at) == at - timedelta(days=90)
    for bad in ("", "2", "two years", "0y", "-1d"):
        with pytest.raises(BadPeriod):
            cutoff_for(bad, at)


def seed(app) -> dict:
    """One old and one recent conversation (messages, a screenshot, an order link), old and
    recent notes, idempotency replies, actions, edit requests and audit rows."""
    from console import audit
    from console.actions.models import Action, EditRequest, IdempotencyRecord
    from console.chat.models import Attachment, Conversation, ConversationOrder, Message
    from console.chat.uploads import upload_folder
    from console.extensions import db
    from console.orders.models import AgentNote

    made: dict = {}
    with app.app_context():
        folder = upload_folder(app.instance_path)
        for label, when in (("old", OLD), ("recent", RECENT)):
            conv = Conversation(customer_key=f"key-{label}", customer_phone="13812345678",
                                customer_email=f"{label}@example.com", status="resolved",
                                created_at=when, opened_at=when, last_message_at=when,
                                last_preview="my phone is 13812345678")
            db.session.add(conv)
            db.session.flush()
            name = f"{label}-shot.png"
            (folder / name).write_bytes(PNG)
            shot = Attachment(conversation_id=conv.id, stored_name=name,
                              content_type="image/png", size=len(PNG), uploaded_by="customer",
                              created_at=when)
            db.session.add(shot)
            db.session.flush()
            for seq in (1, 2, 3):
                db.session.add(Message(conversation_id=conv.id, seq=seq, sender_key="customer",
                                       sender_kind="customer", body=f"{label} {seq}",
                                       attachment_id=shot.id if seq == 3 else None,
                                       sent_at=when))
            conv.last_seq = 3
            db.session.add(ConversationOrder(conversation_id=conv.id, order_no=f"O-{label}",
                                             via="agent", linked_at=when))
            db.session.add(AgentNote(order_no=f"O-{label}", body="buyer said 13812345678",
                                     author_name="agent", created_at=when))
            db.session.add(IdempotencyRecord(actor="user:1", key=f"k-{label}",
                                             request_hash="h", status_code=200,
                                             response={"new_keys": ["SECRET"]},
                                             created_at=when, expires_at=when))
            db.session.add(Action(kind="refund", order_no=f"O-{label}", state="done",
                                  amount_cents=500, reason="customer 13812345678 asked",
                                  requester_name="agent", store_key=f"s-{label}",
                                  created_at=when, updated_at=when))
            db.session.add(EditRequest(order_no=f"O-{label}",
                                       changes={"recipient_account": "13812345678"},
                                       reason="typo", state="applied",
                                       store_key=f"e-{label}", created_at=when,
                                       updated_at=when))
            entry = audit.record("login", actor_name="agent")
            entry.at = when
            made[label] = conv.id
        db.session.commit()
    return made


def counts(app) -> dict:
    from sqlalchemy import func, select

    from console.actions.models import Action, EditRequest, IdempotencyRecord
    from console.chat.models import Attachment, Conversation, ConversationOrder, Message
    from console.extensions import db
    from console.models import AuditRecord
    from console.orders.models import AgentNote
    with app.app_context():
        def n(model) -> int:
            return db.session.execute(select(func.count()).select_from(model)).scalar_one()
        return {"conversations": n(Conversation), "messages": n(Message),
                "attachments": n(Attachment), "links": n(ConversationOrder),
                "notes": n(AgentNote), "idempotency": n(IdempotencyRecord),
                "actions": n(Action), "edits": n(EditRequest), "audit": n(AuditRecord)}


def run_cli(tmp_path: Path, database_url: str, *args: str):
    from console.cli import main
    env = {"KAMIDESK_INSTANCE": str(tmp_path / "instance"),
           "KAMIDESK_DATABASE_URL": database_url,
           "KAMIDESK_STORE_URL": f"sqlite:///{tmp_path / 'store.db'}",
           "KAMIDESK_SECRET_KEY": "test-secret"}
    return CliRunner().invoke(main, ["retention", *args], env=env, catch_exceptions=False)


@pytest.fixture(params=["sqlite", "postgres"])
def console_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'console.db'}"
    return request.getfixturevalue("pg_console_url")


def test_dry_run_prints_counts_per_table_and_changes_nothing(tmp_path, console_url):
    app = make_app(tmp_path, DATABASE_URL=console_url)
    seed(app)
    before = counts(app)
    result = run_cli(tmp_path, console_url, "--dry-run")
    assert result.exit_code == 0, result.output
    lines = dict(line.rsplit(None, 1) for line in result.output.splitlines()[1:])
    assert {k.strip(): int(v.replace(",", "")) for k, v in lines.items()} == {
        "chat_conversations anonymised": 1, "chat_messages deleted": 3,
        "chat_attachments deleted (and files)": 1, "chat_conversation_orders deleted": 1,
        "order_notes deleted": 1, "idempotency_records deleted": 1,
        "order_actions anonymised": 1, "edit_requests anonymised": 1,
        "audit_records kept (append-only)": 1}
    after = counts(app)
    assert after == {**before, "audit": before["audit"] + 1}  # the dry run is audited
    assert (Path(app.instance_path) / "chat_uploads" / "old-shot.png").exists()


def test_run_removes_old_data_keeps_recent_and_audits(tmp_path, console_url):
    from console.actions.models import Action, EditRequest
    from console.chat.models import Conversation, Message
    from console.extensions import db
    from console.models import AuditRecord

    app = make_app(tmp_path, DATABASE_URL=console_url)
    made = seed(app)
    result = run_cli(tmp_path, console_url, "--older-than", "2y")
    assert result.exit_code == 0, result.output
    assert "retention" in result.output  # tqdm's bar (CliRunner captures stderr too)
    assert "chat_messages deleted" in result.output
    assert counts(app) == {"conversations": 2, "messages": 3, "attachments": 1, "links": 1,
                           "notes": 1, "idempotency": 1, "actions": 2, "edits": 2,
                           "audit": 3}
    uploads = Path(app.instance_path) / "chat_uploads"
    assert not (uploads / "old-shot.png").exists() and (uploads / "recent-shot.png").exists()
    with app.app_context():
        old = db.session.get(Conversation, made["old"])
        assert old.customer_phone is None and old.customer_email is None
        assert old.last_preview == "" and old.customer_key.startswith("anon-")
        assert old.created_at is not None  # metrics keep their history
        recent = db.session.get(Conversation, made["recent"])
        assert recent.customer_phone == "13812345678"
        assert {m.conversation_id for m in db.session.execute(db.select(Message)).scalars()} \
            == {made["recent"]}
        reasons = sorted(a.reason for a in db.session.execute(db.select(Action)).scalars())
        assert reasons == ["[removed by retention]", "customer 13812345678 asked"]
        edits = {e.order_no: e.changes for e in db.session.execute(
            db.select(EditRequest)).scalars()}
        assert edits["O-old"] == {"recipient_account": "[removed by retention]"}
        assert edits["O-recent"] == {"recipient_account": "13812345678"}
        [row] = db.session.execute(db.select(AuditRecord).where(
            AuditRecord.kind == "retention")).scalars().all()
        assert row.detail["dry_run"] is False and row.detail["period"] == "2y"
        assert row.detail["counts"]["chat_messages deleted"] == 3
    # a second run finds nothing left to do
    again = run_cli(tmp_path, console_url, "--dry-run")
    assert "chat_conversations anonymised" in again.output
    assert all(line.split()[-1] == "0" for line in again.output.splitlines()[1:]
               if "kept" not in line)


def test_a_bad_period_is_a_clear_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'console.db'}"
    result = run_cli(tmp_path, url, "--older-than", "forever")
    assert result.exit_code == 2
    assert "'forever' is not a period" in result.output
