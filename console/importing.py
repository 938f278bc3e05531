"""Importing order JSONL into a store that can load orders, with a progress bar."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from adapters.base import ImportReport, InvalidOrder, Order, OrderStore, loader_of
from adapters.orders_jsonl import read_jsonl


def import_file(store: OrderStore, path: Path, progress: bool = True) -> ImportReport:
    """Stream the file: good orders go to the store in batches, bad lines are collected."""
    loader = loader_of(store)
    errors: list[tuple[int, str]] = []
    size = path.stat().st_size
    bar = tqdm(total=size, unit="B", unit_scale=True, disable=not progress, desc="import")

    def good_orders() -> Iterator[Order]:
        with path.open("rb") as handle:
            last = 0
            for line_no, item in read_jsonl(handle):
                position = handle.tell()
                bar.update(position - last)
                last = position
                if isinstance(item, InvalidOrder):
                    errors.append((line_no, item.message))
                else:
                    yield item

    try:
        loaded = loader.load(good_orders())
    finally:
        bar.close()
    return ImportReport(loaded=loaded, errors=tuple(errors))
