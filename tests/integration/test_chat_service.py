"""Chat's storage rules under concurrency, on SQLite and PostgreSQL console databases."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from console.chat import service
from console.chat.models import AgentPresence, Conversation, Message
from console.chat.service import AgentRef
from console.extensions import db
from console.models import utcnow
from tests.conftest import make_app

WRITERS, EACH = 6, 15


@pytest.fixture(params=["sqlite", "postgres"])
def chat_app(request, tmp_path):
    extra = {}
    if request.param == "postgres":
        extra["DATABASE_URL"] = request.getfixturevalue("pg_store_url")
    app = make_app(tmp_path, **extra)
    with app.app_context():
        from console.people import save_user
        for name in ("ann", "ben", "cat"):
            save_user(name, "agent", f"{name}-pass-1")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _conversation(app) -> int:
    with app.app_context():
        return service.start_conversation(db.session, None, "en").id


def _in_threads(app, work, count: int) -> list:
    results, errors = [], []
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                results.append(work(index))
            except Exception as exc:  # collected and re-raised below
                errors.append(exc)
            finally:
                db.session.remove()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_concurrent_writers_get_unique_gapless_seqs(chat_app):
    cid = _conversation(chat_app)

    def write(index: int) -> list[int]:
        return [service.post_message(db.session, cid, sender_kind="customer",
                                     body=f"{index}-{n}", client_id=f"{index}-{n}")[0].seq
                for n in range(EACH)]
    seqs = sorted(s for batch in _in_threads(chat_app, write, WRITERS) for s in batch)
    assert seqs == list(range(1, WRITERS * EACH + 1))
    with chat_app.app_context():
        stored = db.session.execute(db.select(Message.seq).where(
            Message.conversation_id == cid).order_by(Message.seq)).scalars().all()
        assert stored == seqs
        assert db.session.get(Conversation, cid).last_seq == WRITERS * EACH


def test_the_same_client_id_racing_stores_one_message(chat_app):
    cid = _conversation(chat_app)

    def send(index: int):
        message, _, created = service.post_message(db.session, cid, sender_kind="customer",
                                                   body=f"copy {index}", client_id="same")
        return message.id, message.seq, created
    results = _in_threads(chat_app, send, WRITERS)
    assert len({(mid, seq) for mid, seq, _ in results}) == 1
    assert sum(created for _, _, created in results) == 1
    with chat_app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Message)).scalar() == 1
        assert db.session.get(Conversation, cid).last_seq == 1  # the losers gave their seq back


def test_auto_assignment_is_round_robin_within_limits(chat_app):
    with chat_app.app_context():
        from console.people import find_user
        agents = [find_user(name) for name in ("ann", "ben", "cat")]
        for agent in agents:
            service.agent_connected(db.session, agent.id)
        service.set_presence(db.session, agents[2].id, status="away")  # cat takes no chats
        service.set_presence(db.session, agents[1].id, max_active=1)   # ben takes one
        given = []
        for n in range(5):
            conversation = service.start_conversation(db.session, None, "en")
            service.post_message(db.session, conversation.id, sender_kind="customer",
                                 body="hi", client_id=str(n))
            given.append(service.auto_assign(db.session, conversation.id))
        names = {a.id: a.name for a in agents}
        assert [names.get(g) for g in given] == ["ann", "ben", "ann", "ann", "ann"]

        # gone quiet for longer than the grace period: no longer "online"
        presence = db.session.get(AgentPresence, agents[0].id)
        presence.last_seen_at = utcnow() - service.ONLINE_GRACE - timedelta(seconds=1)
        db.session.commit()
        late = service.start_conversation(db.session, None, "en")
        service.post_message(db.session, late.id, sender_kind="customer", body="hi",
                             client_id="late")
        assert service.auto_assign(db.session, late.id) is None


def test_agent_reply_takes_an_unassigned_chat_and_stops_the_wait(chat_app):
    cid = _conversation(chat_app)
    with chat_app.app_context():
        from console.people import find_user
        ann = AgentRef.of(find_user("ann"))
        _, conversation, _ = service.post_message(db.session, cid, sender_kind="customer",
                                                  body="hello", client_id="c1")
        assert conversation.waiting_since is not None and conversation.opened_at is not None
        _, conversation, _ = service.post_message(db.session, cid, sender_kind="note",
                                                  body="vip", client_id="n1", agent=ann)
        assert conversation.waiting_since is not None and conversation.assignee_id is None
        _, conversation, _ = service.post_message(db.session, cid, sender_kind="agent",
                                                  body="hi!", client_id="a1", agent=ann)
        assert conversation.assignee_id == ann.id and conversation.status == "assigned"
        assert conversation.waiting_since is None
        assert conversation.first_response_at is not None
        service.resolve(db.session, cid, ann)
        _, conversation, _ = service.post_message(db.session, cid, sender_kind="customer",
                                                  body="one more thing", client_id="c2")
        assert conversation.status == "assigned" and conversation.resolved_at is None


def test_group_commit_writes_bursts_together_without_gaps_or_twins(chat_app):
    from console.chat import writer
    cid = _conversation(chat_app)

    def write(index: int) -> list[tuple[int, int, bool]]:
        out = []
        for n in range(EACH):
            # every writer also re-sends its previous message once: stored once, same seq
            for client_id in {f"{index}-{n}", f"{index}-{max(0, n - 1)}"}:
                message, conversation, created = writer.write(
                    db.session(), cid, sender_kind="customer", body=client_id,
                    client_id=client_id)
                assert message.conversation_id == cid == conversation.id
                out.append((message.id, message.seq, created))
        return out
    results = [r for batch in _in_threads(chat_app, write, WRITERS) for r in batch]
    created = sorted(seq for _, seq, made in results if made)
    assert created == list(range(1, WRITERS * EACH + 1))
    with chat_app.app_context():
        bodies = db.session.execute(db.select(Message.body).where(
            Message.conversation_id == cid)).scalars().all()
        assert len(bodies) == len(set(bodies)) == WRITERS * EACH
    with chat_app.test_request_context("/"), pytest.raises(service.ChatError) as refused:
        writer.write(db.session(), 999_999, sender_kind="customer", body="x", client_id="x")
    assert refused.value.code == "conversation_not_found"


def test_group_write_answers_rows_the_caller_can_present(chat_app):
    """The writer hands back the rows it wrote instead of reading them again; they must
    still behave like the caller's own (lazy attachment, assignee name in the queue row)."""
    from console.chat import writer
    from console.chat.models import Attachment
    from console.chat.presenters import AGENT, conversation_json, message_json
    from console.people import find_user

    cid = _conversation(chat_app)
    with chat_app.test_request_context("/"):
        ann = AgentRef.of(find_user("ann"))
        service.take(db.session, cid, ann)
        attachment = Attachment(conversation_id=cid, stored_name="x.png", content_type="image/png",
                                size=3, uploaded_by="customer")
        db.session.add(attachment)
        db.session.commit()
        message, conversation, created = writer.write(
            db.session(), cid, sender_kind="customer", body="see picture",
            client_id="pic-1", attachment_id=attachment.id)
        assert created and message in db.session and conversation in db.session
        shown = message_json(message, AGENT)
        assert shown["attachment"]["id"] == attachment.id
        assert shown["seq"] == conversation.last_seq == 1
        row = conversation_json(conversation)
        assert row["assignee"] == {"id": ann.id, "name": "ann"}
        assert row["waiting_since"] is not None
        again, _, created_again = writer.write(db.session(), cid, sender_kind="customer",
                                               body="changed", client_id="pic-1")
        assert not created_again and again.id == message.id and again.body == "see picture"
