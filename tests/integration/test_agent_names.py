"""Assignee names in queue rows come from a per-app cache that forgets after a minute."""
from __future__ import annotations

from console.chat import agent_names, service
from console.chat.presenters import conversation_json, customer_conversation_json
from console.chat.service import AgentRef
from console.extensions import db
from console.models import User
from console.people import find_user, save_user
from tests.conftest import make_app


def _assigned_conversation(app, agent: str) -> int:
    with app.test_request_context("/"):
        save_user(agent, "agent", f"{agent}-pass-1")
        conversation = service.start_conversation(db.session, None, "en")
        service.take(db.session, conversation.id, AgentRef.of(find_user(agent)))
        return conversation.id


def test_rename_shows_after_the_cache_expires(tmp_path, monkeypatch):
    app = make_app(tmp_path)
    cid = _assigned_conversation(app, "ann")
    clock = [1000.0]
    monkeypatch.setattr(agent_names.time, "monotonic", lambda: clock[0])
    with app.test_request_context("/"):
        conversation = service.get_conversation(db.session, cid)
        assert conversation_json(conversation)["assignee"]["name"] == "ann"
        user = db.session.get(User, conversation.assignee_id)
        user.name = "annie"
        db.session.commit()
        assert customer_conversation_json(conversation)["agent"] == "ann"  # cached
        clock[0] += agent_names.TTL_SECONDS + 1
        assert conversation_json(conversation)["assignee"]["name"] == "annie"
        assert customer_conversation_json(conversation)["agent"] == "annie"
        db.session.delete(db.session.get(User, conversation.assignee_id))
        db.session.commit()
        clock[0] += agent_names.TTL_SECONDS + 1
        assert conversation_json(conversation)["assignee"] is None
        assert agent_names.agent_name(None) is None


def test_each_app_has_its_own_names(tmp_path):
    first = make_app(tmp_path / "one")
    second = make_app(tmp_path / "two")
    cid_first = _assigned_conversation(first, "ann")
    cid_second = _assigned_conversation(second, "bob")  # the same user id in another DB
    with first.test_request_context("/"):
        row = conversation_json(service.get_conversation(db.session, cid_first))
        assert row["assignee"]["name"] == "ann"
    with second.test_request_context("/"):
        row = conversation_json(service.get_conversation(db.session, cid_second))
        assert row["assignee"]["name"] == "bob"
