"""Importing a JSONL file into the reference store with every core at work.

Reading and checking a line and turning the order into rows
(``adapters.sql.prepared``) is most of an import's work and needs no database, so
worker processes do it, each on its own stretch of the file (found by seeking, never
by passing lines around), and send back rows of plain values.  The main process only
assigns ids and writes, in file order, so line numbers, "the first occurrence of an
order number stands" and the upsert behave exactly as in a one-process load
(``read_jsonl`` + ``Loader.load``).  At most a few stretches are in flight, so memory
stays flat however big the file; the only per-order memory is the line number of each
order written (4 bytes), which names the first line when a later one repeats it.
"""
from __future__ import annotations

import multiprocessing
import os
from array import array
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from sqlalchemy.engine import Engine

from adapters.base import InvalidOrder
from adapters.orders_jsonl import capped_lines, parse_line
from adapters.sql.loader import Loader
from adapters.sql.prepared import PreparedOrder, prepare

CHUNK_BYTES = 4 * 2**20     # a stretch of the file: about 2,500 orders
IN_FLIGHT_PER_WORKER = 2    # stretches sent ahead of the writer, per worker
SCAN_BLOCK = 64 * 1024

Progress = Callable[[int, int], None]  # bytes read since the last call, orders written


class Stretch(NamedTuple):
    """What one stretch of the file holds: line numbers are counted from its start."""

    lines: int
    size: int
    orders: list[tuple[int, PreparedOrder]]
    errors: list[tuple[int, str]]
    repeats: list[tuple[int, str, int]]  # line, order number, line it was first seen on


def stretches(path: Path, chunk_bytes: int) -> Iterator[tuple[int, int]]:
    """``(start, end)`` byte ranges of about ``chunk_bytes``, each ending after a newline."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        start = 0
        while start < size:
            end = min(start + chunk_bytes, size)
            handle.seek(end)
            while end < size:
                block = handle.read(SCAN_BLOCK)
                newline = block.find(b"\n")
                if newline >= 0:
                    end += newline + 1
                    break
                end += len(block)
            yield start, end
            start = end


def read_stretch(path: str, start: int, end: int, sqlite: bool) -> Stretch:
    """Parse and prepare one stretch (runs in a worker process)."""
    orders: list[tuple[int, PreparedOrder]] = []
    errors: list[tuple[int, str]] = []
    repeats: list[tuple[int, str, int]] = []
    first_seen: dict[str, int] = {}
    number = 0
    with open(path, "rb") as handle:
        handle.seek(start)
        lines = capped_lines(handle)
        while handle.tell() < end:
            raw = next(lines, None)
            if raw is None:
                break
            number += 1
            if not raw.strip():
                continue
            try:
                order = parse_line(raw)
            except InvalidOrder as error:
                errors.append((number, error.message))
                continue
            seen_on = first_seen.setdefault(order.order_no, number)
            if seen_on != number:
                repeats.append((number, order.order_no, seen_on))
                continue
            orders.append((number, prepare(order, sqlite)))
    return Stretch(number, end - start, orders, errors, repeats)


class _Writer:
    """Writes stretches in file order and turns their line numbers into the file's."""

    def __init__(self, loader: Loader, upsert: bool, on_progress: Progress | None) -> None:
        self.loader, self.upsert, self.on_progress = loader, upsert, on_progress
        self.lines_before = 0
        self.loaded = 0
        self.errors: list[tuple[int, str]] = []
        self.line_of_new = array("I")  # line of each order this load wrote: id order

    def add(self, stretch: Stretch) -> None:
        base = self.lines_before
        self.errors.extend((base + n, message) for n, message in stretch.errors)
        self.errors.extend((base + n, _repeat(no, base + first))
                           for n, no, first in stretch.repeats)
        line_of = {p.order_no: base + n for n, p in stretch.orders}
        batch = [p for _, p in stretch.orders]
        first_new = self.loader.first_new_id

        def repeated(p: PreparedOrder, order_id: int) -> None:
            self.errors.append((line_of[p.order_no],
                                _repeat(p.order_no, self.line_of_new[order_id - first_new])))
            del line_of[p.order_no]

        if batch:
            ids = self.loader.write(batch, self.upsert, on_repeat=repeated)
            fresh = sorted((order_id, line_of[no]) for no, order_id in ids.items()
                           if order_id >= first_new + len(self.line_of_new))
            self.line_of_new.extend(line for _, line in fresh)
            self.loaded += len(ids)
        self.lines_before += stretch.lines
        if self.on_progress:
            self.on_progress(stretch.size, self.loaded)


def _repeat(order_no: str, first_line: int) -> str:
    return f"duplicate order_no {order_no}, first seen on line {first_line}"


def load_jsonl(engine: Engine, path: Path, upsert: bool = True,
               on_progress: Progress | None = None, workers: int | None = None,
               chunk_bytes: int = CHUNK_BYTES) -> tuple[int, list[tuple[int, str]]]:
    """Load every good line of ``path``; returns the orders written and the bad lines
    (``(line number, reason)``, in line order)."""
    sqlite = engine.dialect.name == "sqlite"
    loader = Loader(engine)
    loader.begin()
    writer = _Writer(loader, upsert, on_progress)
    ranges = stretches(path, chunk_bytes)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    try:
        if workers <= 1 or path.stat().st_size <= chunk_bytes:
            for start, end in ranges:
                writer.add(read_stretch(str(path), start, end, sqlite))
        else:
            _in_workers(writer, [(str(path), s, e, sqlite) for s, e in ranges], workers)
    finally:
        loader.finish()
    writer.errors.sort()
    return writer.loaded, writer.errors


def _in_workers(writer: _Writer, jobs: list[tuple[str, int, int, bool]], workers: int) -> None:
    """Stretches parsed by ``workers`` processes, written here in order, a few ahead."""
    # fork: the workers start at once and need no importable main module; they only read
    # the file and never touch the connections they inherit
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        pending: deque = deque()
        queue = iter(jobs)
        for job in queue:
            pending.append(pool.apply_async(read_stretch, job))
            if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                break
        while pending:
            stretch = pending.popleft().get()
            following = next(queue, None)
            if following is not None:
                pending.append(pool.apply_async(read_stretch, following))
            writer.add(stretch)
