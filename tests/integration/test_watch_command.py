"""`kamidesk watch` as production runs it: its own process, telling agents connected to a
serving process through a write-only Redis manager."""
from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from adapters.demo_data import OUTAGE_SUPPLIER, watch_scenario
from tests.chat_server import ROOT, ChatClient, ChatServer, prepare_instance, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def test_watch_process_alerts_agents_on_another_process(tmp_path, redis_server):
    tokens = prepare_instance(tmp_path, {"alice": "agent"}, orders=list(watch_scenario(seed=8)))
    server = ChatServer(tmp_path, message_queue=redis_server.url).start()
    agent = ChatClient(server.url, "/agent", tokens["alice"])
    for event in ("stuck_orders", "incident"):
        agent.sio.on(event, agent._recorder(event), namespace="/agent")
    agent.connect()
    try:
        done = subprocess.run([sys.executable, "-m", "console.cli", "watch", "--once"],
                              cwd=ROOT, env=server._env(), capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        assert "1 new incidents" in done.stdout and "newly stuck" in done.stdout
        wait_until(lambda: agent.events["stuck_orders"] and agent.events["incident"],
                   message="the watcher's events through Redis")
        assert agent.events["incident"][0]["incident"]["value"] == OUTAGE_SUPPLIER
        flagged = {a["order_no"] for a in agent.events["stuck_orders"][0]["new"]}
        listed = requests.get(server.url + "/api/alerts/stuck-orders", timeout=10, headers={
            "Authorization": f"Bearer {tokens['alice']}"}).json()
        assert {a["order_no"] for a in listed["alerts"]} == flagged
    finally:
        agent.disconnect()
        server.stop()
