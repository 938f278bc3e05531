"""``make bench``: find or build the reference store, then run every ``tests/bench/bench_*.py``.

Each bench module exposes ``run(store_path, report)`` and writes its figures
through ``report`` (markdown tables and lines), so benches can be added without
touching this file.  Figures are printed as they come and saved, all together,
to ``tests/bench/results/<time>.md`` (git-ignored) for pasting into the README.

    python tests/bench/run.py               # every bench
    python tests/bench/run.py search chat   # only bench_search.py and bench_chat.py
    BENCH_ORDERS=100000 make bench          # a smaller store for a quick run
"""
from __future__ import annotations

import importlib
import platform
import sys
import time
import traceback
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.bigstore import ensure_store, size_on_disk  # noqa: E402


class Report:
    """Markdown that is printed as it is written and kept for the results file."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def _emit(self, text: str) -> None:
        print(text, flush=True)
        self.parts.append(text)

    def heading(self, text: str, level: int = 2) -> None:
        self._emit(f"\n{'#' * level} {text}\n")

    def line(self, text: str = "") -> None:
        self._emit(text)

    def table(self, columns: list[str], rows: list[list[object]]) -> None:
        """A markdown table; numbers right-aligned."""
        def cell(value: object) -> str:
            return str(value).replace("|", "\\|").replace("\n", " ")
        numeric = [all(isinstance(r[i], (int, float)) for r in rows if r[i] != "")
                   for i in range(len(columns))]
        out = ["| " + " | ".join(columns) + " |",
               "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
        out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
        self._emit("\n".join(out) + "\n")

    def markdown(self) -> str:
        return "\n".join(self.parts) + "\n"


def discover(names: list[str]) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    if names:
        found = [p for p in found if p.stem.removeprefix("bench_") in names or p.stem in names]
    return found


def load(path: Path):
    return importlib.import_module(f"tests.bench.{path.stem}")


def machine() -> str:
    cpus = len(__import__("os").sched_getaffinity(0))
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB RAM"
    return f"{platform.machine()}, {cpus} CPU{'s' if cpus != 1 else ''}{memory}, " \
           f"Python {platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}"


def main(argv: list[str]) -> int:
    benches = discover(argv)
    if not benches:
        print(f"no bench matches {argv}", file=sys.stderr)
        return 2
    report = Report()
    report.heading(f"Kamidesk benchmarks, {datetime.now():%Y-%m-%d %H:%M}", 1)
    report.line(f"Machine: {machine()}.")
    store_path = ensure_store(log=report.line)
    report.line(f"Store: `{store_path.name}`, {size_on_disk(store_path) / 2**20:,.0f} MiB on disk.")
    failed = 0
    for path in benches:
        started = time.perf_counter()
        try:
            load(path).run(store_path, report)
        except Exception:  # one broken bench must not hide the others' figures
            failed += 1
            report.line(f"**{path.stem} failed:**\n\n```\n{traceback.format_exc()}```")
        report.line(f"_{path.stem}: {time.perf_counter() - started:,.0f} s_")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    target = results / f"{datetime.now():%Y%m%d-%H%M%S}.md"
    target.write_text(report.markdown(), encoding="utf-8")
    print(f"\nsaved {target.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
