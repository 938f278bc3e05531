"""Importing order JSONL into a store that can load orders, with a progress bar."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from tqdm import tqdm

from adapters.base import (
    ImportReport,
    InvalidOrder,
    JsonlLoader,
    Order,
    OrderLoader,
    OrderStore,
    loader_of,
)
from adapters.orders_jsonl import capped_lines, read_jsonl

BAR_EVERY = 2000  # lines between progress-bar updates (each costs a little)


def import_file(store: OrderStore, path: Path, progress: bool = True) -> ImportReport:
    """Stream the file: good orders go to the store in batches, bad lines are collected.

    The bar counts bytes of the file (so its rate and ETA are true from the first
    batch) and shows the orders committed so far; once the file is read it says so
    while the store builds its indexes.
    """
    loader = loader_of(store)
    bar = tqdm(total=path.stat().st_size, unit="B", unit_scale=True, unit_divisor=1024,
               disable=not progress, desc="import", smoothing=0.05)
    try:
        if isinstance(loader, JsonlLoader):
            return _load_whole_file(loader, path, bar)
        return _load_line_by_line(loader, path, bar)
    finally:
        bar.close()


def _load_whole_file(loader: JsonlLoader, path: Path, bar: tqdm) -> ImportReport:
    def advanced(read: int, written: int) -> None:
        bar.update(read)
        bar.set_postfix(orders=f"{written:,}", refresh=False)
        if bar.n >= (bar.total or 0):
            bar.set_description("import done, indexing")

    return loader.load_jsonl(path, on_progress=advanced)


def _load_line_by_line(loader: OrderLoader, path: Path, bar: tqdm) -> ImportReport:
    errors: list[tuple[int, str]] = []
    committed = 0

    def counted(lines: Iterable[bytes]) -> Iterator[bytes]:
        pending = 0
        for number, line in enumerate(lines, start=1):
            pending += len(line)
            if number % BAR_EVERY == 0:
                bar.update(pending)
                pending = 0
            yield line
        bar.update(pending)

    def good_orders() -> Iterator[Order]:
        with path.open("rb") as handle:
            for line_no, item in read_jsonl(counted(capped_lines(handle))):
                if isinstance(item, InvalidOrder):
                    errors.append((line_no, item.message))
                else:
                    yield item
        bar.set_description("import done, indexing")

    def batch_done(count: int) -> None:
        nonlocal committed
        committed += count
        bar.set_postfix(orders=f"{committed:,}", refresh=False)

    loaded = loader.load(good_orders(), on_batch=batch_done)
    return ImportReport(loaded=loaded, errors=tuple(errors))
