"""Every table of the dashboard as CSV: the same figures the page shows, one row each."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable

MEASURE_COLUMNS = [f"{m}_{f}" for m in ("first_response", "assignment", "resolution", "handle")
                   for f in ("count", "median_s", "p90_s")]
FIGURE_COLUMNS = ["conversations", *MEASURE_COLUMNS, "reopen_rate",
                  "first_response_breach_rate", "resolution_breach_rate", "breach_rate"]


def figures_row(row: dict) -> list:
    """A metrics row (overall, agent, hour or day) flattened into FIGURE_COLUMNS."""
    out = [row["conversations"]]
    for measure in ("first_response", "assignment", "resolution", "handle"):
        out += [row[measure]["count"], row[measure]["median"], row[measure]["p90"]]
    sla = row["sla"]
    return out + [row["reopen"]["rate"], sla["first_response"]["rate"],
                  sla["resolution"]["rate"], sla["breach_rate"]]


def metrics_table(answer: dict) -> tuple[list[str], list[list]]:
    key = {"agent": "agent", "hour": "hour", "day": "day"}[answer["group"]]
    return [key, *FIGURE_COLUMNS], [[r["label"], *figures_row(r)] for r in answer["rows"]]


def breaches_table(answer: dict) -> tuple[list[str], list[list]]:
    header = ["conversation_id", "opened_at", "agent", "first_response_s", "resolution_s",
              "breached", "url"]
    return header, [[b[h] if h != "breached" else " ".join(b[h]) for h in header]
                    for b in answer["breaches"]]


def records_table(records: Iterable[dict], header: list[str]) -> tuple[list[str], list[list]]:
    return header, [[r.get(h) for h in header] for r in records]


def to_csv(header: list[str], rows: Iterable[list]) -> str:
    """UTF-8 CSV with a BOM, so spreadsheet programs read the Chinese names right."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


Table = Callable[[], tuple[list[str], list[list]]]
