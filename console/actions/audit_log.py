"""Reading the append-only audit trail: filters, pages and a CSV export for supervisors."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from console.models import AuditRecord
from console.pii import mask_ip
from console.presenters import iso

# the first seven are the original export; later columns are appended, never inserted
CSV_COLUMNS = ("id", "at", "actor", "kind", "order_no", "ip", "detail",
               "role", "object", "request_id", "before", "after")
JSON_COLUMNS = frozenset({"detail", "before", "after"})
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditFilter:
    order_no: str | None = None
    actor: str | None = None
    kind: str | None = None
    start: datetime | None = None   # inclusive, UTC
    end: datetime | None = None     # exclusive, UTC


class BadFilter(ValueError):
    pass


def parse_bound(raw: str | None, zone: str, end: bool = False) -> datetime | None:
    """``YYYY-MM-DD`` (a whole day in the console's zone) or an ISO datetime."""
    if not raw:
        return None
    raw = raw.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            moment = datetime.combine(day + timedelta(days=1 if end else 0), time(0),
                                      tzinfo=ZoneInfo(zone))
        else:
            moment = datetime.fromisoformat(raw)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=ZoneInfo(zone))
    except ValueError:
        raise BadFilter(f"{raw!r} is not a date (YYYY-MM-DD) or an ISO time") from None
    return moment.astimezone(timezone.utc)


def make_filter(args, zone: str) -> AuditFilter:
    def text(name: str) -> str | None:
        value = (args.get(name) or "").strip()
        return value or None
    return AuditFilter(order_no=text("order_no"), actor=text("actor"), kind=text("kind"),
                       start=parse_bound(args.get("from"), zone),
                       end=parse_bound(args.get("to"), zone, end=True))


def _query(f: AuditFilter) -> Select:
    query = select(AuditRecord)
    if f.order_no:
        query = query.where(AuditRecord.order_no == f.order_no)
    if f.actor:
        query = query.where(AuditRecord.actor_name == f.actor)
    if f.kind:
        query = query.where(AuditRecord.kind == f.kind)
    if f.start:
        query = query.where(AuditRecord.at >= f.start)
    if f.end:
        query = query.where(AuditRecord.at < f.end)
    return query


def page(session: Session, f: AuditFilter, number: int, size: int) -> tuple[list[AuditRecord],
                                                                               int]:
    """One page, newest first, and the total that matched."""
    query = _query(f)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(AuditRecord.at.desc(), AuditRecord.id.desc())
                           .offset((number - 1) * size).limit(size)).scalars().all()
    return list(rows), total


def kinds(session: Session) -> list[str]:
    return list(session.execute(select(AuditRecord.kind).distinct()
                                .order_by(AuditRecord.kind)).scalars())


def aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def record_json(entry: AuditRecord, unmasked: bool = False) -> dict:
    """One record as lists show it: the IP masked unless ``unmasked`` (allowed exports)."""
    return {"id": entry.id, "at": iso(aware(entry.at)), "actor": entry.actor_name,
            "role": entry.actor_role, "kind": entry.kind, "order_no": entry.order_no,
            "object": entry.object, "ip": entry.ip if unmasked else mask_ip(entry.ip),
            "request_id": entry.request_id, "detail": entry.detail or {},
            "before": entry.before, "after": entry.after}


def _json_cell(value: object) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _cell(value: object) -> str:
    """Spreadsheets run cells that start like formulas; a quote keeps them as text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_lines(session: Session, f: AuditFilter, batch: int = 1000,
              unmasked: bool = False) -> Iterator[str]:
    """The whole filtered trail as CSV, streamed a batch at a time, newest first; IPs
    masked unless ``unmasked``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + buffer.getvalue()  # a BOM so spreadsheet programs read UTF-8 Chinese
    query = _query(f).order_by(AuditRecord.at.desc(), AuditRecord.id.desc())
    offset = 0
    while True:
        rows = session.execute(query.offset(offset).limit(batch)).scalars().all()
        if not rows:
            return
        buffer.seek(0)
        buffer.truncate()
        for entry in rows:
            item = record_json(entry, unmasked=unmasked)
            writer.writerow([_cell(_json_cell(item[name]) if name in JSON_COLUMNS
                                   else item[name]) for name in CSV_COLUMNS])
        yield buffer.getvalue()
        offset += batch
