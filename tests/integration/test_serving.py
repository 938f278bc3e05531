"""What a serving process sets up before its first request: the collector and the pings."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time

import pytest
import websocket

from tests.chat_server import ROOT, ChatServer, prepare_instance

pytestmark = pytest.mark.slow

PROBE = ("import json, gc, gevent, wsgi; print(json.dumps([list(gc.get_threshold()), "
         "gc.get_freeze_count(), gevent.config.track_greenlet_tree]))")


def _import_wsgi(tmp_path, **env) -> subprocess.CompletedProcess:
    variables = dict(os.environ, KAMIDESK_INSTANCE=str(tmp_path), KAMIDESK_ASYNC_MODE="gevent",
                     KAMIDESK_SECRET_KEY="serving-test", PYTHONPATH=str(ROOT))
    variables.pop("KAMIDESK_GC_THRESHOLDS", None)
    variables.update(env)
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=variables,
                          capture_output=True, text=True, timeout=120)


def test_wsgi_freezes_startup_objects_and_raises_the_thresholds(tmp_path):
    done = _import_wsgi(tmp_path)
    assert done.returncode == 0, done.stderr
    thresholds, frozen, tracking = json.loads(done.stdout.strip().splitlines()[-1])
    assert thresholds == [5000, 50, 50]
    assert frozen > 10_000  # modules, functions, classes: never walked again
    assert tracking is False


def test_thresholds_can_be_left_alone_or_set(tmp_path):
    done = _import_wsgi(tmp_path, KAMIDESK_GC_THRESHOLDS="off")
    assert done.returncode == 0, done.stderr
    thresholds, frozen, _ = json.loads(done.stdout.strip().splitlines()[-1])
    assert thresholds == [700, 10, 10] and frozen == 0
    done = _import_wsgi(tmp_path, KAMIDESK_GC_THRESHOLDS="5000,20,20")
    assert json.loads(done.stdout.strip().splitlines()[-1])[0] == [5000, 20, 20]


def test_a_bad_threshold_stops_the_worker_with_a_clear_message(tmp_path):
    done = _import_wsgi(tmp_path, KAMIDESK_GC_THRESHOLDS="lots")
    assert done.returncode != 0
    assert "KAMIDESK_GC_THRESHOLDS must be three positive whole numbers" in done.stderr


def _ping_gaps(url: str, pings: int, out: list, errors: list) -> None:
    try:
        ws = websocket.create_connection(
            url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", timeout=10)
        opened = json.loads(ws.recv()[1:])
        out.append(("interval", opened["pingInterval"]))
        last = time.monotonic()
        for _ in range(pings):
            while ws.recv() != "2":
                pass
            now = time.monotonic()
            out.append(("gap", now - last))
            last = now
            ws.send("3")
        ws.close()
    except Exception as exc:  # collected and failed on in the test
        errors.append(exc)


@pytest.mark.parametrize("mode", ["gevent", "serve"])
def test_live_pings_come_at_spread_out_times(tmp_path, monkeypatch, mode):
    """Sockets connected together must not stay in step: each wait is 75-100% of the
    interval, drawn afresh, and the client keeps its connection throughout."""
    monkeypatch.setenv("KAMIDESK_PING_INTERVAL", "2")
    prepare_instance(tmp_path, {"ann": "agent"})
    server = ChatServer(tmp_path, mode=mode).start()
    try:
        results: list[list] = [[] for _ in range(4)]
        errors: list = []
        threads = [threading.Thread(target=_ping_gaps, args=(server.url, 3, out, errors))
                   for out in results]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        server.stop()
    assert not errors, errors
    assert all(out[0] == ("interval", 2000) for out in results)
    gaps = [gap for out in results for kind, gap in out[1:] if kind == "gap"]
    assert len(gaps) == 12
    assert all(1.4 <= gap <= 2.4 for gap in gaps), gaps
    assert statistics.pstdev(gaps) > 0.03, gaps
