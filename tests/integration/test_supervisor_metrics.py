"""Response-time figures on a scripted day of chats with known timestamps.

The chats are written through the real chat service (so the history rows it keeps are the
ones measured) with its clock set by the test; every expected value is worked out by hand
in the comments.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from console.chat import service
from console.chat.history import ConversationEvent
from console.chat.service import AgentRef
from console.extensions import db
from console.supervisor import metrics
from console.supervisor.sla import Targets, parse_business_hours

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai, a Friday
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = T0 + timedelta(seconds=8000)


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at

    def set(self, seconds: int) -> None:
        self.at = T0 + timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(service, "utcnow", clock)
    return clock


def _say(clock: Clock, cid: int, at: int, kind: str, agent: AgentRef | None = None) -> None:
    clock.set(at)
    service.post_message(db.session, cid, sender_kind=kind, body=f"{kind} at {at}",
                         client_id=f"{kind}-{at}", agent=agent)


@pytest.fixture
def scripted(app, clock):
    """Four chats.  C1 quick; C2 slow and reopened; C3 handed from alice to bob; C4 never
    answered.  Returns (alice, bob)."""
    from console.people import save_user
    with app.app_context():
        alice = AgentRef.of(save_user("alice", "agent", "alice-pass-1")[0])
        bob = AgentRef.of(save_user("bob", "agent", "bob-pass-1")[0])
        ids = [service.start_conversation(db.session, None, "en").id for _ in range(4)]
        c1, c2, c3, c4 = ids
        _say(clock, c1, 0, "customer")          # C1 10:00
        _say(clock, c1, 60, "agent", alice)      # assigned + first reply after 60 s
        clock.set(300)
        service.resolve(db.session, c1, alice)   # resolution 300 s; alice held 240 s

        _say(clock, c2, 600, "customer")        # C2 10:10
        clock.set(630)
        service.take(db.session, c2, bob)        # assignment 30 s
        _say(clock, c2, 780, "agent", bob)       # first reply 180 s: breach
        clock.set(1500)
        service.resolve(db.session, c2, bob)     # bob held 870 s
        _say(clock, c2, 1800, "customer")       # reopened by the customer
        clock.set(1900)
        service.resolve(db.session, c2, bob)     # +100 s held; resolution 1300 s: breach

        _say(clock, c3, 3600, "customer")       # C3 11:00
        clock.set(3660)
        service.take(db.session, c3, alice)      # assignment 60 s
        clock.set(3720)
        service.assign_to(db.session, c3, bob.id, alice)  # alice held 60 s
        _say(clock, c3, 3780, "agent", bob)      # first reply 180 s: breach
        clock.set(4000)
        service.resolve(db.session, c3, bob)     # resolution 400 s; bob held 280 s

        _say(clock, c4, 7200, "customer")       # C4 12:00, unanswered at NOW (800 s)
    return alice, bob


def _figures(app, group=None, targets=Targets()):
    with app.app_context():
        return metrics.response_times(db.session, T0 - timedelta(hours=1),
                                      T0 + timedelta(hours=5), targets, SHANGHAI, group,
                                      now=NOW)


def test_history_rows_are_written_by_the_chat_service(app, scripted):
    with app.app_context():
        kinds = [k for (k,) in db.session.query(ConversationEvent.kind)
                 .order_by(ConversationEvent.id)]
    assert kinds == ["assigned", "resolved",                          # C1
                     "assigned", "resolved", "reopened", "resolved",  # C2
                     "assigned", "assigned", "resolved"]              # C3


def test_overall_figures(app, scripted):
    answer = _figures(app)
    overall = answer["overall"]
    assert answer["conversations"] == 4
    assert overall["first_response"] == {"count": 3, "median": 180.0, "p90": 180.0}
    assert overall["assignment"] == {"count": 3, "median": 60.0, "p90": 60.0}
    # 300, 400, 1300: p90 at rank 1.8 = 400 + 0.8 * 900
    assert overall["resolution"] == {"count": 3, "median": 400.0, "p90": 1120.0}
    # per chat 240, 970 (870 + 100), 340 (60 + 280)
    assert overall["handle"] == {"count": 3, "median": 340.0, "p90": 844.0}
    assert overall["reopen"] == {"count": 3, "reopened": 1, "rate": 0.3333}


def test_sla_breaches_count_unanswered_chats_past_the_target(app, scripted):
    sla = _figures(app)["sla"]
    assert sla["targets"] == {"first_response_s": 120, "resolution_s": 600,
                              "business_hours": None}
    assert sla["first_response"] == {"count": 4, "breached": 3, "rate": 0.75}
    assert sla["resolution"] == {"count": 4, "breached": 2, "rate": 0.5}
    assert sla["breach_rate"] == 0.75
    # C4 asked 100 s before "now": still inside both targets, so not counted yet
    with app.app_context():
        early = metrics.response_times(db.session, T0 - timedelta(hours=1),
                                       T0 + timedelta(hours=5), Targets(), SHANGHAI,
                                       now=T0 + timedelta(seconds=7300))["sla"]
    assert early["first_response"] == {"count": 3, "breached": 2, "rate": 0.6667}


def test_per_agent_figures_go_to_the_agent_they_measure(app, scripted):
    rows = {row["label"]: row for row in _figures(app, "agent")["rows"]}
    alice, bob = rows["alice"], rows["bob"]
    assert alice["first_response"] == {"count": 1, "median": 60.0, "p90": 60.0}
    assert alice["handle"] == {"count": 2, "median": 150.0, "p90": 222.0}  # 60, 240
    assert alice["conversations"] == 1 and alice["resolution"]["median"] == 300.0
    assert bob["first_response"] == {"count": 2, "median": 180.0, "p90": 180.0}
    assert bob["handle"] == {"count": 2, "median": 625.0, "p90": 901.0}  # 280, 970
    assert bob["assignment"] == {"count": 2, "median": 45.0, "p90": 57.0}
    assert bob["reopen"] == {"count": 2, "reopened": 1, "rate": 0.5}
    assert bob["sla"]["first_response"] == {"count": 2, "breached": 2, "rate": 1.0}
    assert bob["sla"]["resolution"] == {"count": 2, "breached": 1, "rate": 0.5}


def test_hour_and_day_rows_cover_every_bucket(app, scripted):
    hours = _figures(app, "hour")["rows"]
    assert [row["key"] for row in hours] == list(range(24))
    assert {row["key"]: row["conversations"] for row in hours if row["conversations"]} == \
        {10: 2, 11: 1, 12: 1}
    assert hours[10]["first_response"] == {"count": 2, "median": 120.0, "p90": 168.0}
    days = _figures(app, "day")["rows"]
    assert [(row["key"], row["conversations"]) for row in days] == [("2026-11-20", 4)]


def test_business_hours_stop_the_sla_clock(app, scripted):
    hours = parse_business_hours("09:00-10:11", SHANGHAI)
    # C1's reply at 10:01 is in hours; C2 asked at 10:10, the shop closed at 10:11, so only
    # 60 s of its 180 s count; C3 and C4 were asked after closing: 0 s, never a breach, and
    # C4 (unanswered, 0 s on the clock) is not counted yet
    sla = _figures(app, targets=Targets(hours=hours))["sla"]
    assert sla["first_response"] == {"count": 3, "breached": 0, "rate": 0.0}


def test_breach_list_newest_first_with_links(app, scripted):
    with app.app_context():
        found = metrics.breaches(db.session, T0 - timedelta(hours=1), T0 + timedelta(hours=5),
                                 Targets(), now=NOW)
    assert found["total"] == 3
    assert [b["breached"] for b in found["breaches"]] == [
        ["first_response", "resolution"], ["first_response"], ["first_response", "resolution"]]
    first = found["breaches"][0]
    assert first["url"] == f"/inbox#c={first['conversation_id']}" and first["agent"] is None


def test_api_groups_and_refuses_bad_input(app, client, auth, scripted):
    auth.login("agent")
    assert client.get("/api/metrics/response-times").status_code == 403
    auth.logout()
    auth.login("supervisor")
    url = "/api/metrics/response-times?from=2026-11-20&to=2026-11-20&group=hour"
    answer = client.get(url).json
    assert answer["group"] == "hour" and len(answer["rows"]) == 24
    assert answer["conversations"] == 4 and "targets" in answer["sla"]
    bad = client.get("/api/metrics/response-times?group=week")
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_parameter"
    listed = client.get("/api/metrics/sla-breaches?from=2026-11-20&to=2026-11-20").json
    assert listed["total"] == 3


def test_the_same_figures_on_a_postgresql_console_db(tmp_path, pg_console_url, clock):
    from console.people import save_user
    from tests.conftest import make_app
    app = make_app(tmp_path, DATABASE_URL=pg_console_url)
    with app.app_context():
        alice = AgentRef.of(save_user("alice", "agent", "alice-pass-1")[0])
        cid = service.start_conversation(db.session, None, "en").id
        _say(clock, cid, 0, "customer")
        _say(clock, cid, 150, "agent", alice)
        clock.set(300)
        service.resolve(db.session, cid, alice)
        answer = metrics.response_times(db.session, T0 - timedelta(hours=1),
                                        T0 + timedelta(hours=1), Targets(), SHANGHAI, "hour",
                                        now=NOW)
        db.session.remove()
        db.engine.dispose()
    assert answer["overall"]["first_response"] == {"count": 1, "median": 150.0, "p90": 150.0}
    assert answer["overall"]["handle"]["median"] == 150.0
    assert answer["sla"]["first_response"] == {"count": 1, "breached": 1, "rate": 1.0}
    assert answer["rows"][10]["conversations"] == 1


def _summaries(app) -> tuple[dict, dict]:
    from console.chat.history import ConversationSummary, HandleTime
    with app.app_context():
        rows = {s.conversation_id: s for s in db.session.query(ConversationSummary)}
        held: dict = {}
        for h in db.session.query(HandleTime):
            held.setdefault(h.conversation_id, {})[h.agent_id] = h.seconds
        db.session.expunge_all()
    return rows, held


def test_summary_rows_follow_the_chat_as_it_happens(app, scripted):
    alice, bob = scripted
    rows, held = _summaries(app)
    c1, c2, c3, c4 = sorted(rows)
    start = T0.timestamp()
    # C2: resolved, reopened by the customer, resolved again; bob held it 870 + 100 s
    assert (rows[c2].reopens, rows[c2].resolved_once, rows[c2].assignee_id) == (1, 1, bob.id)
    assert rows[c2].resolved_s - rows[c2].opened_s == 1300 and rows[c2].handle_s == 970
    assert held[c2] == {bob.id: 970}
    # C3: alice took it, handed it to bob after 60 s, bob replied and resolved it
    assert held[c3] == {alice.id: 60, bob.id: 280} and rows[c3].handle_s == 340
    assert (rows[c3].assignee_id, rows[c3].first_responder_id) == (bob.id, bob.id)
    assert rows[c3].assigned_s - rows[c3].opened_s == 60
    # C4: asked, never answered: opened, nothing else, no handle time
    assert rows[c4].opened_s == start + 7200 and rows[c4].first_response_s is None
    assert rows[c4].handle_s is None and c4 not in held and rows[c4].resolved_once == 0
    assert rows[c1].first_response_s - rows[c1].opened_s == 60 and rows[c1].reopens == 0
    # every rewrite counted: C2 was rewritten at each step after its first
    assert rows[c2].version > rows[c1].version >= 1


def test_a_reopened_chat_has_no_handle_time_until_resolved_again(app, scripted, clock):
    alice, bob = scripted
    rows, _ = _summaries(app)
    c1 = min(rows)
    with app.app_context():
        _say(clock, c1, 7300, "customer")  # C1 reopened by its customer
    rows, held = _summaries(app)
    assert rows[c1].resolved_s is None and rows[c1].reopens == 1 and c1 not in held
    answer = _figures(app)
    assert answer["overall"]["reopen"] == {"count": 3, "reopened": 2, "rate": 0.6667}
    assert answer["overall"]["handle"]["count"] == 2  # C1 is open again


def test_backfill_of_old_rows_gives_the_same_figures(app, scripted):
    """Conversations written before the summary existed get theirs from their history
    at start-up, and every figure comes out the same."""
    from console.chat import history
    before = {group: _figures(app, group) for group in (None, *metrics.GROUPS)}
    with app.app_context():
        db.session.execute(history.HANDLES.delete())
        db.session.execute(history.SUMMARIES.delete())
        db.session.commit()
        assert history.backfill(db.engine) == 4
        assert history.backfill(db.engine) == 0  # nothing left to do at the next start
    metrics._parts.entries.clear()
    after = {group: _figures(app, group) for group in (None, *metrics.GROUPS)}
    assert after == before
