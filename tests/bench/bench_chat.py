"""Live chat benchmark: delivery latency and throughput with 1,000 customers and 50 agents.

Each customer holds a WebSocket to ``/customer`` and writes at random (Poisson) moments,
on average once every ``interval`` seconds (30 s: a lively chat; 15 s: a rush); each of
the 50 agents holds a WebSocket to
``/agent``, has 20 of the conversations joined, and answers every customer message after
a short think time.  Latency is measured in this client process from just before the
sender emits to the moment the other side's ``message`` event arrives (one clock, so no
skew); ``ack`` is the store-before-ack round trip the sender waits for.

Configurations: one worker in threading mode (``kamidesk serve``), one gevent worker
(gunicorn + gevent-websocket), two gevent workers sharing events through Redis with
clients spread over both (so about half the deliveries cross processes), and one gevent
worker with a PostgreSQL console DB (fsync on), as recommended for production.  Target: delivery
p99 ≤ 50 ms with one worker.

    python -m tests.bench.bench_chat                 # all configurations
    BENCH_CHAT_SECONDS=20 python -m tests.bench.bench_chat gevent
"""
from __future__ import annotations

import asyncio
import gc
import os
import random
import secrets
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CUSTOMERS = int(os.environ.get("BENCH_CHAT_CUSTOMERS", "1000"))
AGENTS = int(os.environ.get("BENCH_CHAT_AGENTS", "50"))
SECONDS = float(os.environ.get("BENCH_CHAT_SECONDS", "30"))
WARMUP = 5.0
# seconds between one customer's messages: normal, busy
INTERVALS = tuple(float(v) for v in os.environ.get("BENCH_CHAT_INTERVALS", "30,15").split(","))
THINK = (0.3, 1.5)               # an agent's reply delay, seconds
TARGET_P99_MS = 50.0
CONFIGS = ("threading", "gevent", "gevent-redis", "gevent-postgres")


def percentile(values: list[float], pct: float) -> float:
    """Nearest rank: a p99 is a latency somebody really got."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


# --- the instance -----------------------------------------------------------------------------

def prepare(folder: Path, database_url: str | None = None
            ) -> tuple[list[tuple[int, str, int]], list[tuple[int, str]]]:
    """50 agents, 1,000 conversations spread over them; (conversation, token, agent index)
    for customers and (agent id, bearer token) for agents."""
    from console.chat.identity import issue_widget_token
    from console.chat.models import Conversation
    from console.extensions import db
    from console.models import utcnow
    from tests.chat_server import SECRET_KEY, prepare_instance

    tokens = prepare_instance(folder, {f"agent{i:02d}": "agent" for i in range(AGENTS)},
                              database_url=database_url)
    from console import create_app
    from tests.chat_server import _config
    app = create_app(_config(folder, database_url))
    with app.app_context():
        from console.people import find_user
        agent_ids = [find_user(f"agent{i:02d}").id for i in range(AGENTS)]
        now = utcnow()
        rows = [Conversation(customer_key=secrets.token_urlsafe(24), status="assigned",
                             lang="en", assignee_id=agent_ids[n % AGENTS], assigned_at=now,
                             opened_at=now) for n in range(CUSTOMERS)]
        db.session.add_all(rows)
        db.session.commit()
        customers = [(c.id, issue_widget_token(SECRET_KEY, c.id, c.customer_key), n % AGENTS)
                     for n, c in enumerate(rows)]
        db.engine.dispose()
    agents = [(agent_ids[i], tokens[f"agent{i:02d}"]) for i in range(AGENTS)]
    return customers, agents


# --- the load -----------------------------------------------------------------------------------

class Run:
    """One measured run: clients, their schedule and what they saw."""

    def __init__(self, urls: list[str], customers, agents, interval: float) -> None:
        self.urls, self.customers, self.agents, self.interval = urls, customers, agents, interval
        self.sent: dict[str, float] = {}
        self.latency = {"customer→agent": [], "agent→customer": []}
        self.acks: list[float] = []
        self.lag: list[float] = []          # this client process's own event-loop delay
        self.errors: dict[str, int] = {}
        self.messages = 0
        self.started = 0.0
        self.running = False
        self.clients = []

    def measuring(self) -> bool:
        return self.running and time.perf_counter() - self.started >= WARMUP

    def _error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1

    async def _connect(self, client, url: str, namespace: str, token: str) -> None:
        for attempt in range(5):
            try:
                await client.connect(url, namespaces=[namespace], auth={"token": token},
                                     transports=["websocket"], wait_timeout=30)
                return
            except Exception:
                await asyncio.sleep(0.5 * (attempt + 1))
        raise RuntimeError(f"could not connect to {url}{namespace}")

    async def start_agents(self) -> None:
        import socketio
        for index, (agent_id, token) in enumerate(self.agents):
            client = socketio.AsyncClient(reconnection=False)
            mine = [cid for cid, _, owner in self.customers if owner == index]

            async def on_message(data, client=client):
                if data["sender"] != "customer":
                    return
                arrived = time.perf_counter()
                sent = self.sent.pop(data["body"], None)
                if sent is not None and self.measuring():
                    self.latency["customer→agent"].append(arrived - sent)
                if self.running:
                    asyncio.get_running_loop().create_task(
                        self._reply(client, data["conversation_id"]))
            client.on("message", on_message, namespace="/agent")
            await self._connect(client, self.urls[index % len(self.urls)], "/agent", token)
            for cid in mine:
                answer = await client.call("join", {"conversation_id": cid}, namespace="/agent",
                                           timeout=30)
                if "error" in answer:
                    raise RuntimeError(f"join refused: {answer}")
            self.clients.append(client)

    async def start_customers(self) -> list:
        import socketio
        made = []

        async def one(index: int, cid: int, token: str):
            client = socketio.AsyncClient(reconnection=False)

            async def on_message(data):
                if data["sender"] != "agent":
                    return
                arrived = time.perf_counter()
                sent = self.sent.pop(data["body"], None)
                if sent is not None and self.measuring():
                    self.latency["agent→customer"].append(arrived - sent)
            client.on("message", on_message, namespace="/customer")
            await self._connect(client, self.urls[index % len(self.urls)], "/customer", token)
            made.append((client, cid))
        batch = 50
        for start in range(0, len(self.customers), batch):
            await asyncio.gather(*(one(start + i, cid, token) for i, (cid, token, _) in
                                   enumerate(self.customers[start:start + batch])))
        self.clients.extend(c for c, _ in made)
        return made

    async def _send(self, client, namespace: str, cid: int, prefix: str) -> None:
        body = f"{prefix}{secrets.token_hex(6)}"
        self.sent[body] = started = time.perf_counter()
        try:
            ack = await client.call("message", {"conversation_id": cid, "client_id": body,
                                                "body": body}, namespace=namespace, timeout=30)
        except Exception:
            self._error("ack_timeout")
            return
        if "error" in ack:
            self._error(ack["error"]["code"])
            return
        self.messages += 1
        if self.measuring():
            self.acks.append(time.perf_counter() - started)

    async def _reply(self, client, cid: int) -> None:
        await asyncio.sleep(random.uniform(*THINK))
        if self.running:
            await self._send(client, "/agent", cid, "a")

    async def _customer_loop(self, client, cid: int) -> None:
        await asyncio.sleep(random.uniform(0, self.interval))
        while self.running:
            await self._send(client, "/customer", cid, "c")
            await asyncio.sleep(random.expovariate(1.0 / self.interval))

    async def _watch_lag(self) -> None:
        """How late this process wakes up: if it is high, the figures are the client's."""
        while self.running:
            before = time.perf_counter()
            await asyncio.sleep(0.05)
            if self.measuring():
                self.lag.append(time.perf_counter() - before - 0.05)

    async def measure(self, seconds: float) -> float:
        await self.start_agents()
        customers = await self.start_customers()
        # 1,000 clients' objects are long-lived, and this process's collector pauses (10-40 ms
        # each under this load) would be the harness's latency, not the server's: freeze what
        # exists and collect nothing until the measurement is over
        gc.collect()
        gc.freeze()
        gc.disable()
        self.running = True
        self.started = time.perf_counter()
        loops = [asyncio.create_task(self._customer_loop(c, cid)) for c, cid in customers]
        loops.append(asyncio.create_task(self._watch_lag()))
        await asyncio.sleep(WARMUP + seconds)
        self.running = False
        measured = time.perf_counter() - self.started - WARMUP
        await asyncio.sleep(2.0)  # let in-flight replies land
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*(c.disconnect() for c in self.clients), return_exceptions=True)
        gc.enable()
        gc.unfreeze()
        return measured

    def row(self, config: str, measured: float, delivered_in_window: int) -> list:
        both = self.latency["customer→agent"] + self.latency["agent→customer"]
        ms = lambda v: round(v * 1000, 1)  # noqa: E731
        return [config, f"1 every {self.interval:g} s",
                round(delivered_in_window / measured, 1),
                ms(percentile(both, 50)), ms(percentile(both, 99)),
                ms(percentile(self.latency["customer→agent"], 99)),
                ms(percentile(self.latency["agent→customer"], 99)),
                ms(percentile(self.acks, 50)), ms(percentile(self.acks, 99)),
                ms(percentile(self.lag, 99)), sum(self.errors.values())]


COLUMNS = ["workers", "each customer writes", "messages/s", "p50 ms", "p99 ms",
           "p99 customer→agent", "p99 agent→customer", "ack p50", "ack p99",
           "client lag p99", "errors"]


def run_config(config: str, folder: Path, customers, agents, store_url: str | None) -> list:
    from tests.chat_server import ChatServer
    from tests.servers import running_postgres, running_redis
    rows = []
    with ExitStack() as stack:
        queue = database_url = None
        count = 1
        mode = "serve" if config == "threading" else "gevent"
        if config.endswith("redis"):
            redis = stack.enter_context(running_redis(Path(tempfile.mkdtemp(prefix="kd-redis-"))))
            queue, count = redis.url, 2
        if config.endswith("postgres"):
            # the production console DB, committing to disk like the SQLite rows
            database_url = stack.enter_context(running_postgres(durable=True))
            folder = Path(tempfile.mkdtemp(prefix="kd-bench-chat-pg-"))
            customers, agents = prepare(folder, database_url)
        servers = [ChatServer(folder, message_queue=queue, mode=mode, store_url=store_url,
                              database_url=database_url).start() for _ in range(count)]
        for server in servers:
            stack.callback(server.stop)
        label = {"threading": "1 (threading)", "gevent": "1 (gevent)",
                 "gevent-redis": "2 (gevent) + Redis",
                 "gevent-postgres": "1 (gevent), PostgreSQL console DB"}[config]
        for interval in INTERVALS:
            run = Run([s.url for s in servers], customers, agents, interval)
            measured = asyncio.run(run.measure(SECONDS))
            delivered = len(run.latency["customer→agent"]) + len(run.latency["agent→customer"])
            rows.append(run.row(label, measured, delivered))
            if run.errors:
                rows[-1][-1] = ", ".join(f"{k}: {v}" for k, v in run.errors.items())
    return rows


def run(store_path: Path | None, report) -> None:
    """Entry point for tests/bench/run.py: prints a markdown table through ``report``."""
    report.heading("Live chat", 2)
    report.line(f"{CUSTOMERS:,} customer sockets and {AGENTS} agent sockets (WebSocket), each "
                f"agent answering its 20 chats after {THINK[0]:g}–{THINK[1]:g} s; "
                f"{SECONDS:g} s measured after {WARMUP:g} s warm-up; console DB on SQLite "
                f"unless the row says PostgreSQL (both committing to disk). "
                f"Latency = sender's emit to the other side's `message` event, in one client "
                f"process on the same 2 cores. Target p99 ≤ {TARGET_P99_MS:g} ms on one worker.")
    configs = [c for c in CONFIGS if not _only or c in _only]
    folder = Path(tempfile.mkdtemp(prefix="kd-bench-chat-"))
    customers, agents = prepare(folder)
    store_url = f"sqlite:///{store_path}" if store_path else None
    rows = []
    for config in configs:
        rows.extend(run_config(config, folder, customers, agents, store_url))
    report.table(COLUMNS, rows)


_only: list[str] = []


class _PrintReport:
    def heading(self, text: str, level: int = 2) -> None:
        print(f"\n{'#' * level} {text}\n")

    def line(self, text: str = "") -> None:
        print(text)

    def table(self, columns: list[str], rows: list[list]) -> None:
        print("| " + " | ".join(columns) + " |")
        print("|" + "|".join("---" for _ in columns) + "|")
        for row in rows:
            print("| " + " | ".join(str(v) for v in row) + " |")


if __name__ == "__main__":
    _only.extend(sys.argv[1:])
    run(None, _PrintReport())
