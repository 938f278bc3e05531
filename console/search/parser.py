"""Turn what a customer told an agent into typed search fragments.

Customers paste order numbers with spaces, give "尾号1234" instead of a phone,
say "about 100 yuan" for an order of 98.50 and "昨天" for a date.  The parser
consumes each recognisable fragment from the text (so one fragment is never
read twice), in a fixed order from the most specific shape to the least:
emails, IPs, phones, phone tails, dates, amounts, status words, category
words, order-number-like keys, and finally the leftover words.

It never raises on any ``str`` and caps its work at ``MAX_CHARS`` characters.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.base import CATEGORIES, CENT, STATUSES, SearchQuery

__all__ = [
    "MAX_CHARS", "Amount", "Fragment", "ParsedQuery", "parse_query", "merge_filters",
]

MAX_CHARS = 500
MAX_PER_KIND = 20
MIN_SUBSTRING = 3
UTC = timezone.utc
_SEP = "\x00"  # marks consumed text: not \w, not \s, so no later rule reads across it

# Whole amounts are often a face value ("100块") while the paid amount carries a
# shop discount (98.50).  A +-2 % window (at least 0.50) covers usual discounts
# without reaching the neighbouring face values (50, 100, 200).
WHOLE_AMOUNT_TOLERANCE = Decimal("0.02")
WHOLE_AMOUNT_MIN_TOLERANCE = Decimal("0.50")
EXACT_AMOUNT_TOLERANCE = CENT

STUCK = frozenset({"processing", "paid", "failed"})


# --- result types -----------------------------------------------------------

@dataclass(frozen=True)
class Amount:
    """A money fragment and the window an order's paid amount may fall in."""

    value: Decimal
    low: Decimal
    high: Decimal
    label: str
    currency: str | None = None

    @property
    def exact(self) -> bool:
        """True when the customer gave cents, so only a cent of slack applies."""
        return self.high - self.low <= 2 * EXACT_AMOUNT_TOLERANCE

    def to_dict(self) -> dict[str, object]:
        return {"value": str(self.value), "min": str(self.low), "max": str(self.high),
                "label": self.label, "currency": self.currency}


@dataclass(frozen=True)
class Fragment:
    """One recognised piece of the text, in text order, for chips and explanations."""

    kind: str
    label: str
    value: str
    start: int = 0


@dataclass(frozen=True)
class ParsedQuery:
    """Typed fragments of one free-text search; every field is immutable."""

    text: str = ""
    keys: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    phone_tails: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    email_fragments: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    amounts: tuple[Amount, ...] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    date_label: str | None = None
    statuses: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    words: tuple[str, ...] = ()
    truncated: bool = False
    fragments: tuple[Fragment, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when nothing searchable was found (the console then shows recent orders)."""
        return not (self.keys or self.phones or self.phone_tails or self.emails
                    or self.email_fragments or self.ips or self.amounts or self.words
                    or self.created_from or self.created_to or self.statuses
                    or self.categories)

    @property
    def amount_min(self) -> Decimal | None:
        return min((a.low for a in self.amounts), default=None)

    @property
    def amount_max(self) -> Decimal | None:
        return max((a.high for a in self.amounts), default=None)

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly view for the API: Decimals as strings, datetimes as ISO 8601."""
        return {
            "text": self.text,
            "truncated": self.truncated,
            "keys": list(self.keys),
            "phones": list(self.phones),
            "phone_tails": list(self.phone_tails),
            "emails": list(self.emails),
            "email_fragments": list(self.email_fragments),
            "ips": list(self.ips),
            "amounts": [a.to_dict() for a in self.amounts],
            "amount_min": _str_or_none(self.amount_min),
            "amount_max": _str_or_none(self.amount_max),
            "created_from": _iso(self.created_from),
            "created_to": _iso(self.created_to),
            "date_label": self.date_label,
            "statuses": sorted(self.statuses),
            "categories": sorted(self.categories),
            "words": list(self.words),
        }

    def chips(self) -> list[dict[str, str]]:
        """What the console understood, one removable chip per fragment, in text order."""
        return [{"kind": f.kind, "label": f.label, "value": f.value} for f in self.fragments]

    def to_search_query(self, limit: int = 200, *, skus: Iterable[str] = ()) -> SearchQuery:
        """Retrieval query for a store: identifiers widen (OR), filters narrow (AND).

        Phones, emails and IPs are also keys because a store can only look
        identifiers up by equality.  Order-like keys are repeated as substrings
        because customers often give only part of an order number.
        """
        keys = _dedupe([*self.keys, *self.phones, *(e.lower() for e in self.emails), *self.ips])
        subs = _dedupe([*self.email_fragments, *(w for w in self.words if _substring_worthy(w)),
                        *self.keys])
        return SearchQuery(
            keys=tuple(k for k in keys if k)[:MAX_PER_KIND * 2],
            phone_tails=self.phone_tails,
            substrings=tuple(s for s in subs if len(s) >= MIN_SUBSTRING)[:MAX_PER_KIND],
            amount_min=self.amount_min,
            amount_max=self.amount_max,
            created_from=self.created_from,
            created_to=self.created_to,
            statuses=self.statuses,
            categories=self.categories,
            skus=frozenset(s for s in skus if s),
            limit=max(1, min(int(limit), 1000)),
        )


# --- explicit UI filters ----------------------------------------------------

DateLike = date | datetime | str | None


def merge_filters(parsed: ParsedQuery, *, status: str | Iterable[str] | None = None,
                  category: str | Iterable[str] | None = None,
                  date_from: DateLike = None, date_to: DateLike = None,
                  tz: tzinfo = UTC) -> ParsedQuery:
    """Apply the filters an agent picked in the UI on top of what the text implied.

    An explicit filter replaces the parsed value of its dimension (the agent's
    choice beats our guess from the text), and the matching text chips are
    dropped so the chips show what is applied.  Setting either date bound
    replaces the whole parsed date range.  ``status``/``category`` accept a
    value, a comma-separated string or an iterable; ``date_to`` given as a date
    is inclusive (the whole day).  Unknown values raise ``ValueError`` so the
    API can answer 400 instead of silently searching for something else.
    """
    changes: dict[str, Any] = {}
    dropped: set[str] = set()
    statuses = _filter_values(status, STATUSES, "status")
    if statuses is not None:
        changes["statuses"] = statuses
        dropped.add("status")
    categories = _filter_values(category, CATEGORIES, "category")
    if categories is not None:
        changes["categories"] = categories
        dropped.add("category")
    if date_from not in (None, "") or date_to not in (None, ""):
        changes["created_from"] = _bound(date_from, tz, end=False)
        changes["created_to"] = _bound(date_to, tz, end=True)
        changes["date_label"] = None
        dropped.add("date")
    if not changes:
        return parsed
    changes["fragments"] = tuple(f for f in parsed.fragments if f.kind not in dropped)
    return replace(parsed, **changes)


def _filter_values(value: str | Iterable[str] | None, allowed: tuple[str, ...],
                   what: str) -> frozenset[str] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    cleaned = {str(v).strip().lower() for v in items if str(v).strip()}
    if not cleaned:
        return None
    unknown = cleaned.difference(allowed)
    if unknown:
        raise ValueError(f"unknown {what}: {', '.join(sorted(unknown))}")
    return frozenset(cleaned)


def _bound(value: DateLike, tz: tzinfo, *, end: bool) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = _parse_iso(value.strip())
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC)
    day = value + timedelta(days=1) if end else value
    return _midnight(day, tz)


def _parse_iso(text: str) -> date | datetime:
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date: {text!r}") from None


# --- entry point ------------------------------------------------------------

def parse_query(text: str, *, now: datetime, tz: tzinfo) -> ParsedQuery:
    """Split free text into typed fragments; dates are read in ``tz`` and returned in UTC."""
    try:
        return _parse(text, now=now, tz=tz)
    except Exception:  # noqa: BLE001 - a search box must never 500; fall back to plain words
        clean, truncated = _normalise(text if isinstance(text, str) else "")
        words = _dedupe(w for w in re.split(r"[\W_]+", clean) if len(w) >= 2)[:MAX_PER_KIND]
        return ParsedQuery(text=clean, words=tuple(words), truncated=truncated,
                           fragments=tuple(Fragment("word", w, w) for w in words))


def _parse(text: str, *, now: datetime, tz: tzinfo) -> ParsedQuery:
    clean, truncated = _normalise(text)
    local_now = (now if now.tzinfo else now.replace(tzinfo=tz)).astimezone(tz)
    st = _State(clean, local_now, tz)
    for step in _STEPS:
        step(st)
    frm, to, label = st.date_range()
    return ParsedQuery(
        text=clean, truncated=truncated,
        keys=st.values("key"), phones=st.values("phone"), phone_tails=st.values("phone_tail"),
        emails=st.values("email"), email_fragments=st.values("email_fragment"),
        ips=st.values("ip"), amounts=tuple(st.amounts[:MAX_PER_KIND]),
        created_from=frm, created_to=to, date_label=label,
        statuses=frozenset(st.statuses), categories=frozenset(st.categories),
        words=st.values("word"),
        fragments=tuple(sorted(st.fragments, key=lambda f: f.start)),
    )


def _normalise(text: object) -> tuple[str, bool]:
    """NFKC (full-width digits/letters/￥ become ASCII), controls to spaces, capped length."""
    if not isinstance(text, str):
        text = ""
    truncated = len(text) > MAX_CHARS
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cf":
            continue  # zero-width joiners, soft hyphens: invisible, drop
        out.append(ch if ch.isprintable() else " ")
    clean = re.sub(r"\s+", " ", "".join(out)).strip()
    if len(clean) > MAX_CHARS:  # NFKC can expand a few characters a lot
        clean, truncated = clean[:MAX_CHARS], True
    return clean, truncated


# --- parsing state ----------------------------------------------------------

class _State:
    """The text being consumed plus everything found so far."""

    def __init__(self, text: str, now: datetime, tz: tzinfo) -> None:
        self.original = text
        self.s = text
        self.now = now
        self.tz = tz
        self.fragments: list[Fragment] = []
        self.amounts: list[Amount] = []
        self.dates: list[tuple[int, datetime, datetime, str]] = []
        self.statuses: set[str] = set()
        self.categories: set[str] = set()
        self._seen: dict[str, list[str]] = {}
        self._folded: dict[str, set[str]] = {}

    def matches(self, rx: re.Pattern[str]) -> list[re.Match[str]]:
        return list(rx.finditer(self.s))

    def consume(self, m: re.Match[str]) -> None:
        start, end = m.span()
        self.s = self.s[:start] + _SEP * (end - start) + self.s[end:]

    def add(self, kind: str, value: str, label: str, start: int) -> bool:
        """Record a value once per kind; False when it was a duplicate or over the cap."""
        seen = self._seen.setdefault(kind, [])
        folded = self._folded.setdefault(kind, set())
        if not value or value.casefold() in folded or len(seen) >= MAX_PER_KIND:
            return False
        seen.append(value)
        folded.add(value.casefold())
        self.fragments.append(Fragment(kind, label.strip(), value, start))
        return True

    def values(self, kind: str) -> tuple[str, ...]:
        return tuple(self._seen.get(kind, ()))

    def date_range(self) -> tuple[datetime | None, datetime | None, str | None]:
        """Several date phrases ("11月1日 到 11月3日") mean the span covering all of them."""
        if not self.dates:
            return None, None, None
        frm = min(d[1] for d in self.dates)
        to = max(d[2] for d in self.dates)
        return frm, to, " ".join(d[3] for d in sorted(self.dates, key=lambda d: d[0]))


# --- emails and IPs ---------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
    r"\.[A-Za-z]{2,24}(?![A-Za-z0-9-])")
_EMAIL_HEAD = re.compile(
    r"(?<![A-Za-z0-9._+-])[A-Za-z0-9][A-Za-z0-9._+-]*@(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)?\.?")
_EMAIL_TAIL = re.compile(r"(?<![A-Za-z0-9._+-])@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
_IPV4 = re.compile(
    r"(?<![0-9A-Za-z.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
    r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)")


def _take_emails(st: _State) -> None:
    for m in st.matches(_EMAIL):
        st.add("email", m.group().lower().rstrip("."), m.group(), m.start())
        st.consume(m)
    for rx in (_EMAIL_HEAD, _EMAIL_TAIL):
        for m in st.matches(rx):
            value = m.group().lower().rstrip(".-")
            if len(value) >= MIN_SUBSTRING:
                st.add("email_fragment", value, m.group(), m.start())
                st.consume(m)


def _take_ips(st: _State) -> None:
    for m in st.matches(_IPV4):
        st.add("ip", m.group(), m.group(), m.start())
        st.consume(m)


# --- phones -----------------------------------------------------------------

_PHONE = re.compile(
    r"(?<![0-9A-Za-z])(?:(?:\+|00)?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?![0-9A-Za-z])")
_TAIL_CN = re.compile(
    r"(?:手机号?|电话|号码)?(?:尾号|尾数|后四位|后4位)(?:是|为|:|=)?\s*(\d{4})(?!\d)")
_TAIL_EN = re.compile(
    r"(?<![A-Za-z])(?:(?:phone|mobile|number|cell)\s+)?"
    r"(?:ending(?:\s+(?:in|with))?|ends?\s+(?:with|in)|tail(?:\s+(?:number|no))?"
    r"|last\s+(?:4|four)(?:\s+digits?)?(?:\s+of\s+(?:my\s+)?(?:phone|mobile|number))?)"
    r"\s*(?:(?:is|are|:|=|#)\s*)?(\d{4})(?!\d)", re.I)


def _take_phones(st: _State) -> None:
    for m in st.matches(_PHONE):
        st.add("phone", "".join(m.groups()), m.group(), m.start())
        st.consume(m)
    for rx in (_TAIL_CN, _TAIL_EN):
        for m in st.matches(rx):
            st.add("phone_tail", m.group(1), m.group(), m.start())
            st.consume(m)


# --- dates ------------------------------------------------------------------

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4,
    "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11,
    "november": 11, "dec": 12, "december": 12,
}
_MONTH_RX = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ISO_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?:\s*[日号])?(?!\d)")
_CN_MONTH_DAY = re.compile(r"(?<!\d)(\d{1,2})\s*月\s*(\d{1,2})(?:\s*[日号]|(?![\d元块.]))")
# "3号买的": a day of the month alone, the most recent one not in the future.
_CN_DAY_ONLY = re.compile(r"(?<![\d月])([1-9]|[12]\d|3[01])\s*[日号](?![码内前后以])")
_CN_REL_MONTH_DAY = re.compile(r"(上个?|本|这个?)月\s*(\d{1,2})\s*[日号]")
_EN_MONTH_DAY = re.compile(
    rf"(?<![A-Za-z])({_MONTH_RX})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s*((?:19|20)\d{{2}}))?"
    r"(?![\dA-Za-z])", re.I)
_EN_DAY_MONTH = re.compile(
    rf"(?<![\dA-Za-z])(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RX})\.?"
    r"(?:,?\s*((?:19|20)\d{2}))?(?![A-Za-z])", re.I)

_CN_NUM = "零一二两三四五六七八九十"
_EN_NUM = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
           "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_DAYS_AGO = re.compile(
    rf"(?<!\d)(\d{{1,4}}|[{_CN_NUM}]{{1,3}})\s*(?:天|日)(?:以|之)?前"
    rf"|(?<![\dA-Za-z])(\d{{1,4}}|{'|'.join(_EN_NUM)})\s+days?\s+ago(?![A-Za-z])", re.I)
_LAST_DAYS = re.compile(
    rf"(?:最近|近|过去)\s*(\d{{1,4}}|[{_CN_NUM}]{{1,3}})\s*天(?:内|以内|里)?"
    rf"|(?<![A-Za-z])(?:last|past)\s+(\d{{1,4}}|{'|'.join(_EN_NUM)})\s+days(?![A-Za-z])", re.I)

# (pattern, (first-day offset, days) or a named span); longest phrases first.
_RELATIVE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"大前天|(?<![A-Za-z])(?:the\s+)?day\s+before\s+the\s+day\s+before"
                r"\s+yesterday", re.I), "d-3"),
    (re.compile(r"前天|(?<![A-Za-z])(?:the\s+)?day\s+before\s+yesterday(?![A-Za-z])", re.I), "d-2"),
    (re.compile(r"昨天|昨日|昨晚|(?<![A-Za-z])yesterday(?![A-Za-z])", re.I), "d-1"),
    (re.compile(r"今天|今日|今早|今晚|(?<![A-Za-z])(?:today|tonight)(?![A-Za-z])", re.I), "d-0"),
    (re.compile(r"上(?:个)?(?:周|星期|礼拜)|(?<![A-Za-z])last\s+week(?![A-Za-z])", re.I), "last_week"),
    (re.compile(r"(?:本|这|这个)(?:周|星期|礼拜)|(?<![A-Za-z])this\s+week(?![A-Za-z])", re.I), "this_week"),
    (re.compile(r"上(?:个)?月|(?<![A-Za-z])last\s+month(?![A-Za-z])", re.I), "last_month"),
    (re.compile(r"(?:本|这|这个)月|(?<![A-Za-z])this\s+month(?![A-Za-z])", re.I), "this_month"),
]


def _take_dates(st: _State) -> None:
    today = st.now.date()
    _take_calendar_dates(st, today)
    _take_relative_dates(st, today)


def _take_calendar_dates(st: _State, today: date) -> None:
    """Dates named by their day: 2024-05-03, 5月3日, May 3, 3 May, 上月3号."""
    for m in st.matches(_ISO_DATE):
        _add_day(st, m, _safe_date(int(m[1]), int(m[2]), int(m[3])))
    for m in st.matches(_CN_REL_MONTH_DAY):
        first, _ = _named_span(today, "last_month" if m[1].startswith("上") else "this_month")
        _add_day(st, m, _safe_date(first.year, first.month, int(m[2])))
    for m in st.matches(_CN_MONTH_DAY):
        _add_day(st, m, _recent_date(today, int(m[1]), int(m[2])))
    for m in st.matches(_EN_MONTH_DAY):
        _add_day(st, m, _month_day(today, _MONTHS[m[1].lower()], int(m[2]), m[3]))
    for m in st.matches(_EN_DAY_MONTH):
        _add_day(st, m, _month_day(today, _MONTHS[m[2].lower()], int(m[1]), m[3]))


def _take_relative_dates(st: _State, today: date) -> None:
    """Dates counted from today: 3天前, last 7 days, yesterday, this week, 15号."""
    for m in st.matches(_DAYS_AGO):
        n = _count(m[1] or m[2])
        if n is not None:
            # "3天前" is an estimate: take the day itself and one day either side.
            _add_span(st, m, today - timedelta(days=n + 1), 3)
    for m in st.matches(_LAST_DAYS):
        n = _count(m[1] or m[2])
        if n is not None:
            _add_span(st, m, today - timedelta(days=max(n - 1, 0)), max(n, 1))
    for rx, name in _RELATIVE:
        for m in st.matches(rx):
            first, days = _named_span(today, name)
            _add_span(st, m, first, days)
    for m in st.matches(_CN_DAY_ONLY):
        _add_day(st, m, _recent_day_of_month(today, int(m[1])))


def _named_span(today: date, name: str) -> tuple[date, int]:
    """First local day and length of a relative period; weeks start on Monday."""
    if name.startswith("d-"):
        return today - timedelta(days=int(name[2:])), 1
    monday = today - timedelta(days=today.weekday())
    if name == "last_week":
        return monday - timedelta(days=7), 7
    if name == "this_week":
        return monday, 7
    first = today.replace(day=1)
    if name == "last_month":
        prev = (first - timedelta(days=1)).replace(day=1)
        return prev, (first - prev).days
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, (nxt - first).days


def _add_day(st: _State, m: re.Match[str], day: date | None) -> None:
    if day is not None:
        _add_span(st, m, day, 1)
    else:
        st.consume(m)  # "2月30日": clearly meant as a date, so not an amount or a key


def _add_span(st: _State, m: re.Match[str], first: date, days: int) -> None:
    st.consume(m)
    try:
        frm = _midnight(first, st.tz)
        to = _midnight(first + timedelta(days=days), st.tz)
    except (OverflowError, ValueError):
        return
    st.dates.append((m.start(), frm, to, m.group().strip()))
    st.fragments.append(Fragment("date", m.group().strip(), f"{_iso(frm)}/{_iso(to)}", m.start()))


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _recent_date(today: date, month: int, day: int) -> date | None:
    """Month-day without a year: the most recent such date that is not in the future."""
    for year in range(today.year, today.year - 9, -1):
        found = _safe_date(year, month, day)
        if found is not None and found <= today:
            return found
    return None


def _recent_day_of_month(today: date, day: int) -> date | None:
    month_start = today.replace(day=1)
    for _ in range(12):
        found = _safe_date(month_start.year, month_start.month, day)
        if found is not None and found <= today:
            return found
        month_start = (month_start - timedelta(days=1)).replace(day=1)
    return None


def _month_day(today: date, month: int, day: int, year: str | None) -> date | None:
    return _safe_date(int(year), month, day) if year else _recent_date(today, month, day)


def _count(token: str | None) -> int | None:
    """Arabic, Chinese (三, 十二, 二十) or English (three) small counts; None if absurd."""
    if not token:
        return None
    token = token.lower()
    n: int | None
    if token.isdigit():
        n = int(token)
    elif token in _EN_NUM:
        n = _EN_NUM[token]
    else:
        n = _cn_int(token)
    return n if n is not None and 0 <= n <= 3660 else None


def _cn_int(token: str) -> int | None:
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2}
    if "十" not in token:
        return digits.get(token) if len(token) == 1 else None
    tens, _, ones = token.partition("十")
    if any(len(part) > 1 or (part and part not in digits) for part in (tens, ones)):
        return None
    return (digits[tens] if tens else 1) * 10 + (digits[ones] if ones else 0)


# --- amounts ----------------------------------------------------------------

_NUM = r"(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{1,9}(?:\.\d{1,2})?)"
_AMOUNT_PREFIX = re.compile(
    rf"(?:(¥|\$)|(?<![A-Za-z])(CNY|RMB|USD|US\$)\s*)\s*{_NUM}(?![\d.]\d)", re.I)
_AMOUNT_SUFFIX = re.compile(
    rf"(?<![\d.,]){_NUM}\s*(元|块钱|块|rmb|yuan|cny|usd|dollars?|bucks|刀)(?![A-Za-z])", re.I)
_AMOUNT_DECIMAL = re.compile(r"(?<![\dA-Za-z.,])(\d{1,9}\.\d{1,2})(?![\dA-Za-z%]|\.\d)")
_CURRENCY = {"¥": "CNY", "$": "USD", "cny": "CNY", "rmb": "CNY", "usd": "USD", "us$": "USD",
             "元": "CNY", "块钱": "CNY", "块": "CNY", "yuan": "CNY", "dollar": "USD",
             "dollars": "USD", "bucks": "USD", "刀": "USD"}


def _take_amounts(st: _State) -> None:
    for m in st.matches(_AMOUNT_SUFFIX):  # "100元" first: more common than "RMB 100"
        _add_amount(st, m, m[1], m[2].lower())
    for m in st.matches(_AMOUNT_PREFIX):
        _add_amount(st, m, m[3], (m[1] or m[2] or "").lower())
    for m in st.matches(_AMOUNT_DECIMAL):
        _add_amount(st, m, m[1], None)


def _add_amount(st: _State, m: re.Match[str], number: str, marker: str | None) -> None:
    st.consume(m)
    try:
        value = Decimal(number.replace(",", "")).quantize(CENT)
    except InvalidOperation:
        return
    if "." in number:
        slack = EXACT_AMOUNT_TOLERANCE
    else:
        slack = max(value * WHOLE_AMOUNT_TOLERANCE, WHOLE_AMOUNT_MIN_TOLERANCE).quantize(CENT)
    amount = Amount(value=value, low=max(value - slack, Decimal("0.00")), high=value + slack,
                    label=m.group().strip(), currency=_CURRENCY.get(marker or ""))
    if all(a.value != value for a in st.amounts) and len(st.amounts) < MAX_PER_KIND:
        st.amounts.append(amount)
        st.fragments.append(Fragment("amount", amount.label, str(value), m.start()))


# --- status and category words ----------------------------------------------

def _phrase(*alternatives: str) -> re.Pattern[str]:
    """CJK phrases match anywhere; Latin phrases only as whole words, any case."""
    parts = []
    for alt in sorted(alternatives, key=len, reverse=True):
        if re.search(r"[A-Za-z]", alt):
            parts.append(rf"(?<![A-Za-z0-9]){alt}(?![A-Za-z])")
        else:
            parts.append(alt)
    return re.compile("|".join(parts), re.I)


_STATUS_RULES: list[tuple[re.Pattern[str], frozenset[str]]] = [
    (_phrase("未到账", "没到账", "未到帐", "没到帐", "没有到账", "不到账", "没收到", "未收到",
             "没有收到", "收不到", "还没到", "没到", "没充上", "未发货", "没发货", "没有发货",
             r"not\s+received", r"didn'?t\s+(?:arrive|receive|get\s+it)",
             r"did\s+not\s+(?:arrive|receive)",
             r"never\s+(?:arrived|received|got)", r"not\s+(?:arrived|delivered)",
             r"haven'?t\s+(?:received|got)", r"have\s+not\s+(?:received|got)"), STUCK),
    (_phrase("部分退款", r"partial(?:ly)?\s+refund(?:ed)?"), frozenset({"partially_refunded"})),
    (_phrase("已退款", "退款", "退钱", "退了", r"refund(?:ed|s)?"),
     frozenset({"refunded", "partially_refunded"})),
    (_phrase("失败", r"fail(?:ed|ure|s)?"), frozenset({"failed"})),
    (_phrase("处理中", "正在处理", r"processing", r"in\s+progress"), frozenset({"processing"})),
    (_phrase("已完成", "已发货", "已到账", "已收到", r"completed", r"delivered"),
     frozenset({"completed", "delivered"})),
    (_phrase("待支付", "未支付", "未付款", "待付款", "没付款", r"unpaid", r"not\s+paid",
             r"pending\s+payment", r"awaiting\s+payment"), frozenset({"pending_payment"})),
    (_phrase("已取消", "取消", r"cancell?ed"), frozenset({"cancelled"})),
    (_phrase("已过期", "过期", r"expired"), frozenset({"expired"})),
    (_phrase("售后", r"after[\s-]?sales?"), frozenset({"after_sales"})),
]

# (pattern, category, keep the words as leftover text for product matching)
_CATEGORY_RULES: list[tuple[re.Pattern[str], str, bool]] = [
    (_phrase("话费", "充话费", r"phone\s+(?:credit|bill|recharge|top[\s-]?up)",
             r"mobile\s+(?:credit|recharge|top[\s-]?up)", r"airtime",
             r"top[\s-]?up\s+(?:my\s+|the\s+)?(?:phone|mobile)",
             r"recharge\s+(?:my\s+|the\s+)?(?:phone|mobile)"), "phone_topup", False),
    (_phrase("流量包", "流量", r"mobile\s+data", r"data\s+(?:plan|pack(?:age)?|top[\s-]?up)"),
     "data_topup", False),
    (_phrase("Q币", "Q点", "QQ币", r"qb", r"q\s?coins?"), "virtual_currency", True),
    (_phrase("游戏点卡", "点卡", r"game\s+(?:time\s+)?cards?"), "game_card", False),
    (_phrase("会员", "VIP", r"memberships?"), "video_membership", False),
    (_phrase("爱奇艺", "腾讯视频", "优酷", "芒果TV", "哔哩哔哩", "B站", r"iqiyi", r"bilibili",
             r"netflix", r"youku"), "video_membership", True),
    (_phrase("礼品卡", r"gift\s?cards?"), "gift_card", False),
    (_phrase("苹果", "京东E卡", "京东卡", r"steam", r"apple", r"itunes", r"app\s+store",
             r"google\s+play", r"xbox", r"psn", r"playstation"), "gift_card", True),
    (_phrase("激活码", "序列号", "注册码", r"licen[cs]e(?:\s+key)?",
             r"activation\s+(?:code|key)", r"product\s+key", r"serial\s+key", r"cd[\s-]?key",
             r"software(?:\s+key)?",
             r"(?:(?<=windows\s)|(?<=office\s)|(?<=windows)|(?<=office))key"),
     "software_key", False),
    (_phrase(r"windows", r"office", r"win1[01]"), "software_key", True),
]
_GAME_WORDS = re.compile(
    r"游戏|手游|王者|原神|和平精英|英雄联盟|吃鸡|点券|钻石|元宝|创世结晶|皮肤"
    r"|(?<![A-Za-z])(?:game|lol|pubg|genshin)(?![A-Za-z])", re.I)
_RECHARGE_CN = re.compile(r"充值")
_TOPUP_EN = re.compile(r"(?<![A-Za-z])(?:top[\s-]?up|recharge)(?![A-Za-z])", re.I)


# A request is not a state: "我要退款" is asked about an order that is NOT refunded yet.
_REQUESTS = _phrase(
    "申请退款", "要退款", "想退款", "要求退款", "给我退款", "帮我退款", "能不能退款", "可以退款",
    "申请取消", "要取消", "想取消", "帮我取消", "申请售后",
    r"(?:want|need|like|request|get|requesting)\s+(?:a\s+|my\s+)?refund",
    r"(?:please|pls|plz)\s+refund", r"refund\s+(?:me|my\s+money)",
    r"(?:want|need|like)\s+to\s+(?:cancel|refund)", r"(?:please|pls|plz)\s+cancel")


def _take_statuses(st: _State) -> None:
    for m in st.matches(_REQUESTS):
        st.consume(m)
    for rx, statuses in _STATUS_RULES:
        for m in st.matches(rx):
            st.consume(m)
            st.statuses.update(statuses)
            value = ",".join(sorted(statuses))
            st.fragments.append(Fragment("status", m.group(), value, m.start()))


def _take_categories(st: _State) -> None:
    for rx, category, keep in _CATEGORY_RULES:
        for m in st.matches(rx):
            _add_category(st, category, m)
            if not keep:
                st.consume(m)
    gamey = _GAME_WORDS.search(st.original) is not None
    for m in st.matches(_RECHARGE_CN):
        if gamey:  # "充值" alone may be any product; with a game word it is a game top-up
            _add_category(st, "game_topup", m)
        st.consume(m)
    for m in st.matches(_TOPUP_EN):
        _add_category(st, "game_topup", m)
        st.consume(m)


def _add_category(st: _State, category: str, m: re.Match[str]) -> None:
    if category not in st.categories:
        st.categories.add(category)
        st.fragments.append(Fragment("category", m.group(), category, m.start()))


# --- keys and leftover words ------------------------------------------------

# Order numbers written in groups: "kd 2026 1118 0001", "KD-20261118-0001", "ABCD-1234-EFGH".
_SPACED_ID = re.compile(
    r"(?<![0-9A-Za-z-])(?:([A-Za-z]{1,4})[ -]?)?(\d{2,}(?:[ -]\d{2,})+)"
    r"(?![0-9A-Za-z]|-[0-9A-Za-z])")
_DASHED_ID = re.compile(r"(?<![0-9A-Za-z-])[A-Za-z0-9]{2,}(?:-[A-Za-z0-9]{2,})+(?![0-9A-Za-z-])")
_ALNUM = re.compile(r"[A-Za-z0-9]+")
_NOT_PREFIX = {"no", "nr", "num", "id", "is", "my", "the", "at", "on", "in", "of", "and",
               "for", "to", "or", "was", "tel", "qq", "ref"}
MIN_KEY = 8
MIN_DIGIT_KEY = 6
MAX_KEY = 64
MAX_WORD = 64


def _take_keys(st: _State) -> None:
    for m in st.matches(_SPACED_ID):
        digits = re.sub(r"[ -]", "", m[2])
        prefix = (m[1] or "") if (m[1] or "").lower() not in _NOT_PREFIX else ""
        if len(digits) >= MIN_KEY:
            if len(prefix) + len(digits) <= MAX_KEY:
                st.add("key", (prefix + digits).upper(), m.group(), m.start())
            st.consume(m)
    for m in st.matches(_DASHED_ID):
        joined = m.group().replace("-", "").upper()
        if len(joined) >= MIN_KEY and any(c.isdigit() for c in joined) and len(joined) <= MAX_KEY:
            st.add("key", joined, m.group(), m.start())
            st.consume(m)
    for m in st.matches(_ALNUM):
        if _key_like(m.group()):
            st.add("key", m.group().upper(), m.group(), m.start())
            st.consume(m)


def _key_like(token: str) -> bool:
    """Long letter+digit runs (order no, serial) or long digit runs (QQ, transaction id).

    Mixed runs need several digits so that "steam100" stays product text.
    """
    digits = sum(c.isdigit() for c in token)
    if len(token) > MAX_KEY or not digits:
        return False
    if digits == len(token):
        return len(token) >= MIN_DIGIT_KEY
    return len(token) >= MIN_KEY and (digits >= 4 or len(token) >= 12)


_EN_STOP = frozenset("""
a an the i me my mine you your we our us it its is am are was were be been being have has had
do does did not no yes please pls plz hi hello hey thanks thank thx help order orders number
num id for on at in of to from and or but with this that these those there here what why how
where when which who can could would should will shall just still yet about around approx
approximately bought buy purchased purchase paid pay payment got get received receive phone
mobile email mail ip address ago day days amount price sir madam ok okay some any already so
then account key keys card cards code codes via by as if my ur u pay it's i'm im dont don't
""".split())
# Multi-character fillers split a CJK run; single particles are dropped anywhere.
_CN_FILLERS = sorted("""
你好 您好 在吗 在不在 请问 麻烦 帮我 帮忙 查一下 查查 看一下 看看 一下 我买的 买的 我充的 充的
订单号 订单 单号 交易号 流水号 手机号 手机 电话 号码 邮箱 账号 金额 怎么回事 怎么办 怎么 为什么
还没 一直 已经 谢谢 付款 付了 大概 左右 大约 下单 买了 充了 客服 一个 我的 卡密 卡号 密码
""".split(), key=len, reverse=True)
_CN_PARTICLES = "了吗呢吧啊呀哦嗯么"
_CN_PROTECTED = ("我的世界",)  # product names that contain a filler
_CN_FILLER_RX = re.compile("|".join(_CN_FILLERS) + f"|[{_CN_PARTICLES}]")
_WORD_SPLIT = re.compile(r"[\W_]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _take_words(st: _State) -> None:
    for m in re.finditer(r"[^\x00\s]+", st.s):
        for word in _split_words(m.group()):
            if not _stop_word(word):
                st.add("word", word, word, m.start())


def _split_words(chunk: str) -> Iterator[str]:
    for token in _WORD_SPLIT.split(chunk):
        if not token:
            continue
        if not _CJK.search(token):
            yield token
            continue
        protected = [p for p in _CN_PROTECTED if p in token]
        if protected:
            yield from protected
            for p in protected:
                token = token.replace(p, " ")
        yield from (t for t in _CN_FILLER_RX.sub(" ", token).split() if t)


def _stop_word(word: str) -> bool:
    return not 2 <= len(word) <= MAX_WORD or word.casefold() in _EN_STOP


# --- helpers ----------------------------------------------------------------

_STEPS: tuple[Callable[[_State], None], ...] = (
    _take_emails, _take_ips, _take_phones, _take_dates, _take_amounts,
    _take_statuses, _take_categories, _take_keys, _take_words,
)


def _substring_worthy(word: str) -> bool:
    """Short pure numbers ("100") would match half the database as substrings."""
    return len(word) >= MIN_SUBSTRING and not word.isdigit()


def _dedupe(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        folded = item.casefold()
        if item and folded not in seen:
            seen.add(folded)
            out.append(item)
    return out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _str_or_none(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
