"""Two chat server processes sharing events through one real Redis."""
from __future__ import annotations

import pytest

from tests.chat_server import ChatClient, ChatServer, prepare_instance, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(scope="module")
def pair(tmp_path_factory, redis_server):
    """Servers A and B on one console DB and one Redis, as behind nginx's ip_hash."""
    folder = tmp_path_factory.mktemp("chat-redis")
    tokens = prepare_instance(folder, {"alice": "agent"})
    first = ChatServer(folder, message_queue=redis_server.url).start()
    second = ChatServer(folder, message_queue=redis_server.url).start()
    yield first, second, tokens
    first.stop()
    second.stop()


def test_customer_on_one_process_agent_on_the_other(pair):
    first, second, tokens = pair
    session = first.widget_session()
    cid = session["conversation_id"]
    customer = ChatClient(first.url, "/customer", session["token"]).connect()
    agent = ChatClient(second.url, "/agent", tokens["alice"]).connect()
    try:
        customer.send(cid, "hello from A")
        wait_until(lambda: any(e["conversation"]["id"] == cid
                               for e in agent.events["conversation"]),
                   message="the queue update on B")
        agent.join(cid)
        agent.send(cid, "hello from B")
        wait_until(lambda: customer.bodies(cid) == ["hello from A", "hello from B"],
                   message="B's reply on A")
        customer.send(cid, "live from A")
        wait_until(lambda: "live from A" in agent.bodies(cid), message="A's message on B")
        assert [m["seq"] for m in agent.transcript(cid)] == [1, 2, 3]
    finally:
        customer.disconnect()
        agent.disconnect()


def test_events_sent_while_redis_was_away_still_arrive(pair, redis_server):
    first, second, tokens = pair
    session = first.widget_session()
    cid = session["conversation_id"]
    customer = ChatClient(first.url, "/customer", session["token"]).connect()
    agent = ChatClient(second.url, "/agent", tokens["alice"]).connect()
    try:
        customer.send(cid, "before the outage")
        agent.join(cid)
        redis_server.stop()
        # stored and acknowledged although the queue is down: the database is the truth
        during = customer.send(cid, "during the outage")
        assert during["seq"] == 2
        redis_server.start()
        # B hears it again: A publishes what it kept, and B's clients are told to resume
        wait_until(lambda: "during the outage" in agent.bodies(cid), timeout=30,
                   message="the message sent while Redis was down")
        agent.send(cid, "after the outage")
        wait_until(lambda: "after the outage" in customer.bodies(cid), timeout=15,
                   message="events flowing again")
        seqs = [m["seq"] for m in agent.transcript(cid)]
        assert seqs == sorted(set(seqs)) == [1, 2, 3]
    finally:
        customer.disconnect()
        agent.disconnect()
