"""Live chat through a real server process and real python-socketio clients."""
from __future__ import annotations

import uuid

import pytest

from tests.chat_server import ChatClient, ChatServer, prepare_instance, wait_until

pytestmark = pytest.mark.slow

USERS = {"alice": "agent", "bob": "agent", "sue": "supervisor"}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chat-live")
    tokens = prepare_instance(folder, USERS)
    server = ChatServer(folder).start()
    yield server, tokens
    server.stop()


@pytest.fixture
def customer(live):
    """A new widget session and its connected customer socket."""
    server, _ = live
    session = server.widget_session()
    client = ChatClient(server.url, "/customer", session["token"]).connect()
    client.conversation_id = session["conversation_id"]
    yield client
    client.disconnect()


@pytest.fixture
def agent_for(live):
    clients = []

    def connect(name: str = "alice") -> ChatClient:
        server, tokens = live
        client = ChatClient(server.url, "/agent", tokens[name]).connect()
        clients.append(client)
        return client
    yield connect
    for client in clients:
        client.disconnect()


def test_customer_and_agent_exchange_messages(customer, agent_for):
    agent = agent_for("alice")
    cid = customer.conversation_id
    ack = customer.send(cid, "Where is my card key?")
    assert ack["seq"] == 1 and ack["duplicate"] is False

    joined = agent.join(cid)
    assert [m["body"] for m in joined["messages"]] == ["Where is my card key?"]
    assert joined["conversation"]["waiting_since"] is not None

    reply = agent.send(cid, "Let me check that for you.")
    assert reply["seq"] == 2
    wait_until(lambda: customer.bodies(cid) == ["Where is my card key?",
                                                "Let me check that for you."],
               message="the reply on the customer's socket")
    answer = customer.transcript(cid)[-1]
    assert answer["sender"] == "agent" and answer["sender_name"] == "alice"

    customer.send(cid, "Thanks!")
    wait_until(lambda: "Thanks!" in agent.bodies(cid), message="the customer's message live")


def test_notes_stay_with_agents(customer, agent_for):
    agent = agent_for("alice")
    cid = customer.conversation_id
    customer.send(cid, "hello")
    agent.join(cid)
    agent.send(cid, "customer sounds upset", note=True)
    agent.send(cid, "Hello! How can I help?")
    wait_until(lambda: "Hello! How can I help?" in customer.bodies(cid), message="the reply")
    assert "customer sounds upset" not in customer.bodies(cid)
    assert "customer sounds upset" not in [m["body"] for m in customer.resume(cid, 0)]
    assert [m["sender"] for m in agent.resume(cid, 0)] == ["customer", "note", "agent"]


def test_reconnect_resumes_with_nothing_missing_and_nothing_duplicated(live, customer, agent_for):
    server, _ = live
    agent = agent_for("alice")
    cid = customer.conversation_id
    customer.send(cid, "first")
    agent.join(cid)
    agent.send(cid, "reply 1")
    wait_until(lambda: len(customer.transcript(cid)) == 2, message="reply 1")
    last_seen = customer.last_seq(cid)

    customer.disconnect()  # the phone drops off Wi-Fi
    for text in ("reply 2", "reply 3", "reply 4"):
        agent.send(cid, text)

    back = ChatClient(server.url, "/customer", customer.token).connect()
    try:
        missed = back.resume(cid, last_seen)
        assert [m["body"] for m in missed] == ["reply 2", "reply 3", "reply 4"]
        assert [m["seq"] for m in missed] == [last_seen + 1, last_seen + 2, last_seen + 3]
        agent.send(cid, "reply 5")
        wait_until(lambda: "reply 5" in back.bodies(cid), message="live after resume")
        everything = customer.transcript(cid) + back.transcript(cid)
        ids = [m["id"] for m in {m["id"]: m for m in everything}.values()]
        assert len(ids) == len(set(ids)) == 6
        seqs = sorted({m["seq"] for m in everything})
        assert seqs == list(range(1, 7))
        assert back.resume(cid) == []  # nothing after the last seq it has
    finally:
        back.disconnect()


def test_the_same_client_id_twice_stores_one_message(customer, agent_for):
    agent = agent_for("alice")
    cid = customer.conversation_id
    client_id = uuid.uuid4().hex
    first = customer.send(cid, "paid twice?", client_id=client_id)
    again = customer.send(cid, "paid twice? (re-sent)", client_id=client_id)
    assert again["id"] == first["id"] and again["seq"] == first["seq"]
    assert again["duplicate"] is True
    stored = agent.join(cid)["messages"]
    assert [m["body"] for m in stored] == ["paid twice?"]
    # an agent's client_id lives in its own space: the same string is a different message
    assert agent.send(cid, "ok", client_id=client_id)["id"] != first["id"]


def test_typing_and_read_receipts_reach_the_other_side(customer, agent_for):
    agent = agent_for("alice")
    cid = customer.conversation_id
    customer.send(cid, "hi")
    agent.join(cid)
    customer.call("typing", {"conversation_id": cid, "typing": True})
    wait_until(lambda: any(e["sender"] == "customer" for e in agent.events["typing"]),
               message="typing at the agent")
    reply = agent.send(cid, "hello")
    wait_until(lambda: "hello" in customer.bodies(cid), message="the reply")
    assert customer.call("read", {"conversation_id": cid, "seq": reply["seq"]})["seq"] == reply["seq"]
    wait_until(lambda: any(e["reader"] == "customer" and e["seq"] == reply["seq"]
                           for e in agent.events["read"]), message="the read receipt")
    # a read mark never moves back
    assert customer.call("read", {"conversation_id": cid, "seq": 1})["seq"] is None


def test_unauthorised_clients_and_joins_are_refused(live, customer, agent_for):
    server, tokens = live
    cid = customer.conversation_id
    other = server.widget_session()

    for token in ("forged-token", None, tokens["alice"]):  # an agent token is no widget token
        intruder = ChatClient(server.url, "/customer", token)
        with pytest.raises(Exception):
            intruder.connect(timeout=5)
    with pytest.raises(Exception):
        ChatClient(server.url, "/agent", other["token"]).connect(timeout=5)
    with pytest.raises(Exception):
        ChatClient(server.url, "/agent", None).connect(timeout=5)

    for event, payload in (("join", {"conversation_id": other["conversation_id"]}),
                           ("message", {"conversation_id": other["conversation_id"],
                                        "client_id": "x", "body": "let me in"}),
                           ("resume", {"conversation_id": other["conversation_id"],
                                       "after_seq": 0})):
        answer = customer.call(event, payload)
        assert answer["error"]["code"] == "forbidden", event

    # alice takes the chat by answering; bob (an agent) may no longer join it, sue may
    alice, bob, sue = agent_for("alice"), agent_for("bob"), agent_for("sue")
    for colleague in (bob, sue):  # away: auto-assignment must not hand the chat to them
        assert colleague.call("presence", {"status": "away"})["presence"] == "away"
    customer.send(cid, "help")
    alice.join(cid)
    alice.send(cid, "I'm on it")
    assert bob.call("join", {"conversation_id": cid})["error"]["code"] == "forbidden"
    assert bob.send(cid, "me too")["error"]["code"] == "forbidden"
    assert sue.join(cid)["conversation"]["assignee"]["name"] == "alice"
    assert bob.call("join", {"conversation_id": 999999})["error"]["code"] == \
        "conversation_not_found"


def test_oversize_and_flood_are_refused_with_a_clear_error(customer):
    cid = customer.conversation_id
    too_long = customer.send(cid, "x" * 4001)
    assert too_long["error"]["code"] == "message_too_long"
    assert "4,000" in too_long["error"]["message"]
    assert customer.send(cid, "x" * 4000)["seq"] == 1
    assert customer.send(cid, "   ")["error"]["code"] == "empty_message"

    answers = [customer.send(cid, f"spam {i}") for i in range(30)]
    refused = [a for a in answers if "error" in a]
    assert refused, "a burst of 30 messages must hit the flood limit"
    assert {a["error"]["code"] for a in refused} == {"rate_limited"}
    assert all(a["error"]["retry_after"] > 0 for a in refused)
    stored = customer.resume(cid, 0)
    assert len(stored) == 1 + len(answers) - len(refused)


def test_a_killed_server_loses_no_stored_message(tmp_path):
    tokens = prepare_instance(tmp_path, {"alice": "agent"})
    server = ChatServer(tmp_path).start()
    try:
        session = server.widget_session()
        cid = session["conversation_id"]
        customer = ChatClient(server.url, "/customer", session["token"]).connect()
        acked = [customer.send(cid, f"message {i}") for i in range(8)]
        assert all("seq" in a for a in acked)
        server.kill()  # SIGKILL right after the acks: no graceful shutdown at all
        wait_until(lambda: not customer.connected, message="the socket to notice the crash")

        server.start()
        back = ChatClient(server.url, "/customer", session["token"]).connect()
        agent = ChatClient(server.url, "/agent", tokens["alice"]).connect()
        try:
            stored = back.resume(cid, 0)
            assert [m["body"] for m in stored] == [f"message {i}" for i in range(8)]
            assert [m["id"] for m in stored] == [a["id"] for a in acked]
            # the widget re-sends what it never saw acknowledged: stored once, same seq
            again = back.send(cid, "message 7", client_id=acked[-1] and stored[-1]["client_id"])
            assert again["duplicate"] is True and again["seq"] == acked[-1]["seq"]
            assert len(agent.join(cid)["messages"]) == 8
        finally:
            back.disconnect()
            agent.disconnect()
    finally:
        server.stop()


@pytest.mark.parametrize("mode", ["gevent", "serve"])
def test_a_postgresql_console_db_stores_each_message_once_in_order(tmp_path, pg_console_url,
                                                                   mode):
    """The production setup: group-committed writes on PostgreSQL, seqs gap-free, re-sends
    stored once, queue rows naming the assignee."""
    tokens = prepare_instance(tmp_path, {"alice": "agent"}, database_url=pg_console_url)
    server = ChatServer(tmp_path, mode=mode, database_url=pg_console_url).start()
    try:
        session = server.widget_session()
        cid = session["conversation_id"]
        customer = ChatClient(server.url, "/customer", session["token"]).connect()
        agent = ChatClient(server.url, "/agent", tokens["alice"]).connect()
        try:
            acks = [customer.send(cid, f"question {i}", client_id=f"q{i}") for i in range(5)]
            assert [a["seq"] for a in acks] == [1, 2, 3, 4, 5]
            again = customer.send(cid, "question 4", client_id="q4")
            assert again["duplicate"] is True and again["seq"] == 5
            joined = agent.join(cid)
            assert [m["body"] for m in joined["messages"]] == [f"question {i}" for i in range(5)]
            reply = agent.send(cid, "On it.")
            assert reply["seq"] == 6
            wait_until(lambda: "On it." in customer.bodies(cid), message="the reply")
            wait_until(lambda: any((e["conversation"].get("assignee") or {}).get("name")
                                   == "alice" for e in agent.events["conversation"]),
                       message="a queue row naming the assignee")
        finally:
            customer.disconnect()
            agent.disconnect()
    finally:
        server.stop()
