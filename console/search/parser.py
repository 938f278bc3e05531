"""Turn what a customer told an agent into typed search fragments.

Customers paste order numbers with spaces, give "尾号1234" instead of a phone,
say "about 100 yuan" for an order of 98.50 and "昨天" for a date.  The parser
consumes each recognisable fragment from the text (so one fragment is never
read twice), in a fixed order from the most specific shape to the least:
emails, IPs, phones, phone tails, times of day, dates, amount ranges and
approximations, amounts, status words, category words, order-number-like keys
and card-key pieces, bare numbers (a face value or an amount), and finally the
leftover words.  Chinese numerals count as numbers in amounts and dates
("一百元", "十一月三号", "两天前").

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

from .numerals import CN_NUMERAL, cn_decimal, cn_integer

__all__ = [
    "MAX_CHARS", "Amount", "Fragment", "ParsedQuery", "TimeWindow", "parse_query",
    "merge_filters", "normalise_code",
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
# "about 50", "100元左右": wider than a plain whole amount, still short of the next face value.
APPROX_AMOUNT_TOLERANCE = Decimal("0.04")
APPROX_AMOUNT_MIN_TOLERANCE = Decimal("1.00")
MAX_BARE_AMOUNT = 99_999    # bare numbers up to this may be an amount ("steam wallet 50")
MIN_CODE, MAX_CODE = 6, 64  # letters+digits of a card-key piece worth looking up
MAX_CODES = 6

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
    # a number without a currency ("steam wallet 50"): the paid amount or the face value
    bare: bool = False

    @property
    def exact(self) -> bool:
        """True when the customer gave cents, so only a cent of slack applies."""
        return self.high - self.low <= 2 * EXACT_AMOUNT_TOLERANCE

    def to_dict(self) -> dict[str, object]:
        return {"value": str(self.value), "min": str(self.low), "max": str(self.high),
                "label": self.label, "currency": self.currency, "bare": self.bare}


@dataclass(frozen=True)
class TimeWindow:
    """A time of day the customer named ("昨晚8点左右", "around 3pm"), in the shop's zone.

    It ranks rather than filters: orders placed within ``slack`` minutes of
    ``minute`` (minutes after local midnight) match fully, and the match fades
    out over as much again, because customers' clocks are rough.
    """

    minute: int
    slack: int
    label: str
    tz: tzinfo = UTC

    def distance(self, when: datetime) -> int:
        """Minutes between ``when`` (any zone) and the named time, across midnight too."""
        local = when.astimezone(self.tz)
        minute = local.hour * 60 + local.minute
        gap = abs(minute - self.minute)
        return min(gap, 1440 - gap)

    def closeness(self, when: datetime) -> float:
        """1.0 inside the window, falling to 0.0 at twice its width."""
        gap = self.distance(when)
        if gap <= self.slack:
            return 1.0
        return max(0.0, 1.0 - (gap - self.slack) / max(self.slack, 30))

    def to_dict(self) -> dict[str, object]:
        low, high = (self.minute - self.slack) % 1440, (self.minute + self.slack) % 1440
        return {"at": f"{self.minute // 60:02d}:{self.minute % 60:02d}",
                "from": f"{low // 60:02d}:{low % 60:02d}",
                "to": f"{high // 60:02d}:{high % 60:02d}", "label": self.label}


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
    time_window: TimeWindow | None = None
    codes: tuple[str, ...] = ()
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
                    or self.codes
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
            "time": self.time_window.to_dict() if self.time_window else None,
            "codes": list(self.codes),
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
        # every key could also be a piece of a card secret or serial the shop printed
        codes = _dedupe([*self.codes, *(normalise_code(k) for k in self.keys)])
        return SearchQuery(
            keys=tuple(k for k in keys if k)[:MAX_PER_KIND * 2],
            phone_tails=self.phone_tails,
            substrings=tuple(s for s in subs if len(s) >= MIN_SUBSTRING)[:MAX_PER_KIND],
            emails=tuple(e.lower() for e in self.emails)[:MAX_PER_KIND],
            codes=tuple(c for c in codes if MIN_CODE <= len(c) <= MAX_CODE)[:MAX_CODES],
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
        created_from=frm, created_to=to, date_label=label, time_window=st.time_window,
        codes=st.values("code"),
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
        self.time_window: TimeWindow | None = None
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


# --- times of day -----------------------------------------------------------

_CN_HOUR = rf"(\d{{1,2}}|[{CN_NUMERAL[:-3]}]{{1,3}})"
# (day word kept for the date step)(period)(hour)点(半 | minutes)(about)
_CN_TIME = re.compile(
    rf"(?:(昨|今|前)?(早上|早晨|上午|中午|下午|傍晚|晚上|夜里|半夜|凌晨|晚|早))?\s*{_CN_HOUR}\s*"
    rf"(?:点|點|时|時)(?![卡券数币])(?:\s*(半)|\s*(\d{{1,2}}|[{CN_NUMERAL[:-3]}]{{1,3}})\s*分"
    r"|钟)?\s*(左右|前后|多|上下)?")
_EN_TIME = re.compile(
    r"(?<![\w:])(?:(around|about|approx(?:imately)?\.?|roughly|at|~)\s*)?(\d{1,2})"
    r"(?::([0-5]\d))?\s*(am|pm|a\.m\.|p\.m\.)(?![A-Za-z])", re.I)
_CLOCK = re.compile(
    r"(?<![\w:.])(?:(around|about|approx(?:imately)?\.?|roughly|at|~)\s*)?"
    r"([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?(?![\w:])(\s*左右)?", re.I)
# Period words alone ("昨晚", "this morning"): the window of that part of the day.
_PERIODS = {"早上": (480, 120), "早晨": (480, 120), "上午": (600, 120), "中午": (750, 75),
            "下午": (900, 180), "傍晚": (1110, 90), "晚上": (1260, 180), "晚": (1260, 180),
            "夜里": (1380, 120), "半夜": (60, 120), "凌晨": (180, 180), "早": (480, 120),
            "morning": (540, 180), "afternoon": (900, 180), "evening": (1200, 150),
            "night": (1290, 150), "noon": (750, 75), "midnight": (0, 90)}
_PERIOD_ALONE = re.compile(
    r"(早上|早晨|上午|中午|下午|傍晚|晚上|夜里|半夜|凌晨)|(?<=昨|今)(晚|早)"
    r"|(?<![A-Za-z])(morning|afternoon|evening|night|noon|midnight)(?![A-Za-z])", re.I)
_PM = {"下午", "傍晚", "晚上", "夜里", "晚"}
EXACT_TIME_SLACK, ROUGH_TIME_SLACK = 60, 90


def _take_times(st: _State) -> None:
    """Times of day become one ranked window; the day words ("昨晚") stay for the dates."""
    _take_cn_times(st)
    _take_en_times(st)
    if st.time_window is None:
        _take_period(st)


def _take_cn_times(st: _State) -> None:
    for m in st.matches(_CN_TIME):
        hour = _count(m[3])
        minute = 30 if m[4] else _count(m[5]) if m[5] else 0
        if hour is None or minute is None or hour > 24 or minute > 59:
            continue
        period = m[2]
        if not period and m[3] == "一" and not (m[4] or m[5] or m[6]):
            continue  # "快一点", "便宜一点": "a little", not one o'clock
        if period in _PM and hour < 12 or period == "中午" and hour < 6:
            hour += 12
        elif period in ("凌晨", "半夜") and hour == 12:
            hour = 0
        rough = m[6] or (not period and not m[4] and not m[5])
        slack = ROUGH_TIME_SLACK if rough else EXACT_TIME_SLACK
        if m[6] == "多":  # "8点多": after eight
            minute, slack = minute + 30, 45
        elif m[4] or m[5]:
            slack = 45 if not m[6] else ROUGH_TIME_SLACK
        start = m.start(3) if m[1] else m.start()
        _set_time(st, m, (hour % 24) * 60 + minute, slack, start)


def _take_en_times(st: _State) -> None:
    for m in st.matches(_EN_TIME):
        hour, minute = int(m[2]), int(m[3] or 0)
        if not 1 <= hour <= 12:
            continue
        hour = hour % 12 + (12 if m[4].lower().startswith("p") else 0)
        slack = ROUGH_TIME_SLACK if m[1] and m[1].lower() != "at" else EXACT_TIME_SLACK
        _set_time(st, m, hour * 60 + minute, slack, m.start())
    for m in st.matches(_CLOCK):
        rough = (m[1] and m[1].lower() != "at") or m[4]
        _set_time(st, m, int(m[2]) * 60 + int(m[3]), ROUGH_TIME_SLACK if rough else 45,
                  m.start())


def _take_period(st: _State) -> None:
    """A part of the day alone ("昨晚", "下午"): its whole window, the text left as it is."""
    for m in _PERIOD_ALONE.finditer(st.s):
        word = (m[1] or m[2] or m[3]).lower()
        minute, slack = _PERIODS[word]
        st.time_window = TimeWindow(minute, slack, m.group().strip(), st.tz)
        st.fragments.append(Fragment("time", m.group().strip(), word, m.start()))
        return  # not consumed: "昨晚" is also a day, "night" a stop word


def _set_time(st: _State, m: re.Match[str], minute: int, slack: int, start: int) -> None:
    """Keep the first time named; consume the clock text either way."""
    label = st.s[start:m.end()].strip()
    st.s = st.s[:start] + _SEP * (m.end() - start) + st.s[m.end():]
    if st.time_window is None:
        st.time_window = TimeWindow(minute % 1440, slack, label, st.tz)
        st.fragments.append(Fragment("time", label, f"{minute // 60 % 24:02d}:{minute % 60:02d}",
                                     start))


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
_CN_DIGIT_RUN = "[一二三四五六七八九十]{1,3}"
# "十一月三号", "11月三日", "十二月25号": Chinese numerals need the 日/号 (or a month name).
_CN_MONTH_DAY_HAN = re.compile(
    rf"(?<![{CN_NUMERAL}\d])(\d{{1,2}}|{_CN_DIGIT_RUN})\s*月\s*(\d{{1,2}}|{_CN_DIGIT_RUN})\s*[日号]")
_CN_DAY_ONLY_HAN = re.compile(
    rf"(?<![{CN_NUMERAL}\d月星期周礼拜])({_CN_DIGIT_RUN})\s*[日号](?![码内前后以])")
_CN_REL_MONTH_DAY_HAN = re.compile(rf"(上个?|本|这个?)月\s*({_CN_DIGIT_RUN})\s*[日号]")
_WEEKDAYS_CN = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAYS_EN = {"monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2,
                "wed": 2, "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
                "saturday": 5, "sat": 5, "sunday": 6, "sun": 6}
_CN_WEEKDAY = re.compile(r"(上上|上|本|这)?个?(?:周|星期|礼拜)([一二三四五六日天])")
_EN_WEEKDAY = re.compile(
    rf"(?<![A-Za-z])(?:(last|this|on|past)\s+)?({'|'.join(sorted(_WEEKDAYS_EN, key=len, reverse=True))})"
    r"\.?(?![A-Za-z])", re.I)
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
_WEEKS_AGO = re.compile(
    rf"(?<!\d)(\d{{1,3}}|[{_CN_NUM}]{{1,3}}|半)\s*个?\s*(周|星期|礼拜|月)(?:以|之)?前"
    rf"|(?<![\dA-Za-z])(\d{{1,3}}|{'|'.join(_EN_NUM)}|half\s+a)\s+(weeks?|months?)\s+ago(?![A-Za-z])",
    re.I)
_LAST_WEEKS = re.compile(
    rf"(?:最近|近|过去|这)\s*(\d{{1,3}}|[{_CN_NUM}]{{1,3}}|半)\s*个?\s*(周|星期|礼拜|月)(?:内|以内|里)?"
    rf"|(?<![A-Za-z])(?:last|past|within\s+(?:the\s+)?(?:last|past)?)\s*(\d{{1,3}}|{'|'.join(_EN_NUM)})?"
    r"\s*(weeks?|months?)(?![A-Za-z])", re.I)
_LAST_DAYS = re.compile(
    rf"(?:最近|近|过去)\s*(\d{{1,4}}|[{_CN_NUM}]{{1,3}})\s*天(?:内|以内|里)?"
    rf"|(?<![A-Za-z])(?:last|past)\s+(\d{{1,4}}|{'|'.join(_EN_NUM)})\s+days(?![A-Za-z])", re.I)

# (pattern, (first-day offset, days) or a named span); longest phrases first.
_RELATIVE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"上上(?:个)?(?:周|星期|礼拜)|(?<![A-Za-z])(?:the\s+)?week\s+before\s+last"
                r"(?![A-Za-z])", re.I), "week-2"),
    (re.compile(r"上上(?:个)?月|(?<![A-Za-z])(?:the\s+)?month\s+before\s+last(?![A-Za-z])",
                re.I), "month-2"),
    (re.compile(r"大前天|(?<![A-Za-z])(?:the\s+)?day\s+before\s+the\s+day\s+before"
                r"\s+yesterday", re.I), "d-3"),
    (re.compile(r"前天|(?<![A-Za-z])(?:the\s+)?day\s+before\s+yesterday(?![A-Za-z])", re.I), "d-2"),
    (re.compile(r"昨天|昨日|昨晚|昨儿|(?<![A-Za-z])(?:yesterday|last\s+night)(?![A-Za-z])", re.I),
     "d-1"),
    (re.compile(r"今天|今日|今早|今晚|(?<![A-Za-z])(?:today|tonight|this\s+(?:morning|afternoon"
                r"|evening))(?![A-Za-z])", re.I), "d-0"),
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
    for m in st.matches(_CN_REL_MONTH_DAY_HAN):
        first, _ = _named_span(today, "last_month" if m[1].startswith("上") else "this_month")
        _add_day(st, m, _safe_date(first.year, first.month, _count(m[2]) or 0))
    for m in st.matches(_CN_MONTH_DAY):
        _add_day(st, m, _recent_date(today, int(m[1]), int(m[2])))
    for m in st.matches(_CN_MONTH_DAY_HAN):
        month, day = _count(m[1]), _count(m[2])
        _add_day(st, m, _recent_date(today, month or 0, day or 0))
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
    _take_week_dates(st, today)
    for rx, name in _RELATIVE:
        for m in st.matches(rx):
            first, days = _named_span(today, name)
            _add_span(st, m, first, days)
    for m in st.matches(_CN_DAY_ONLY):
        _add_day(st, m, _recent_day_of_month(today, int(m[1])))
    for m in st.matches(_CN_DAY_ONLY_HAN):
        day = _count(m[1])
        if day and day <= 31:
            _add_day(st, m, _recent_day_of_month(today, day))


def _take_week_dates(st: _State, today: date) -> None:
    """Weekdays ("上周三", "last Friday"), "两周前" / "3 months ago", "最近两周" / "past 2 weeks"."""
    for m in st.matches(_CN_WEEKDAY):
        back = {"上上": 2, "上": 1}.get(m[1] or "", 0)
        monday = today - timedelta(days=today.weekday() + 7 * back)
        day = monday + timedelta(days=_WEEKDAYS_CN[m[2]])
        if not m[1] and day > today:
            day -= timedelta(days=7)  # "周五" said on a Wednesday: the Friday just gone
        _add_day(st, m, day)
    for m in st.matches(_EN_WEEKDAY):
        if m[2].lower() in ("sun", "sat", "wed", "mon") and not m[1] and not m[2][0].isupper():
            continue  # "sat", "wed" and "mon" are words too; only take them capitalised alone
        weekday = _WEEKDAYS_EN[m[2].lower()]
        day = today - timedelta(days=(today.weekday() - weekday) % 7)
        if (m[1] or "").lower() == "last" and day >= today - timedelta(days=today.weekday()):
            day -= timedelta(days=7)  # "last Friday": in the week before this one
        _add_day(st, m, day)
    for m in st.matches(_WEEKS_AGO):
        count_text, unit = (m[1], m[2]) if m[2] else (m[3], m[4])
        n = 0.5 if count_text.lower().startswith(("半", "half")) else _count(count_text)
        if n is None or n > 120:
            continue
        days = round(n * (30 if unit.lower().startswith(("月", "month")) else 7))
        slack = max(3, days // 7)  # "两周前" is rough: a few days either side
        _add_span(st, m, today - timedelta(days=days + slack), 2 * slack + 1)
    for m in st.matches(_LAST_WEEKS):
        count_text, unit = (m[1], m[2]) if m[2] else (m[3], m[4])
        if count_text is None and not m[0].lower().startswith(("past", "within")):
            continue  # "last week" / "last month" are calendar spans, read below
        n = 1 if count_text is None else 0.5 if count_text == "半" else _count(count_text)
        if n is None or n > 120:
            continue
        days = round(n * (30 if unit.lower().startswith(("月", "month")) else 7))
        _add_span(st, m, today - timedelta(days=max(days - 1, 0)), max(days, 1))


def _named_span(today: date, name: str) -> tuple[date, int]:
    """First local day and length of a relative period; weeks start on Monday."""
    if name.startswith("d-"):
        return today - timedelta(days=int(name[2:])), 1
    monday = today - timedelta(days=today.weekday())
    if name == "last_week":
        return monday - timedelta(days=7), 7
    if name == "week-2":
        return monday - timedelta(days=14), 7
    if name == "this_week":
        return monday, 7
    first = today.replace(day=1)
    if name == "last_month":
        prev = (first - timedelta(days=1)).replace(day=1)
        return prev, (first - prev).days
    if name == "month-2":
        prev = (first - timedelta(days=1)).replace(day=1)
        before = (prev - timedelta(days=1)).replace(day=1)
        return before, (prev - before).days
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
    return cn_integer(token)


# --- amounts ----------------------------------------------------------------

_NUM = r"(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{1,9}(?:\.\d{1,2})?)"
_AMOUNT_PREFIX = re.compile(
    rf"(?:(¥|\$)|(?<![A-Za-z])(CNY|RMB|USD|US\$)\s*)\s*{_NUM}(?![\d.]\d)", re.I)
_AMOUNT_SUFFIX = re.compile(
    rf"(?<![\d.])(?<!\d,){_NUM}\s*(元|块钱|块|rmb|yuan|cny|usd|dollars?|bucks|刀)(?![A-Za-z])", re.I)
_AMOUNT_DECIMAL = re.compile(r"(?<![\dA-Za-z.])(?<!\d,)(\d{1,9}\.\d{1,2})(?![\dA-Za-z%]|\.\d)")
_CURRENCY = {"¥": "CNY", "$": "USD", "cny": "CNY", "rmb": "CNY", "usd": "USD", "us$": "USD",
             "元": "CNY", "块钱": "CNY", "块": "CNY", "圆": "CNY", "yuan": "CNY", "dollar": "USD",
             "dollars": "USD", "bucks": "USD", "刀": "USD"}


_UNIT = r"(元|块钱|块|圆|rmb|yuan|cny|usd|dollars?|bucks|刀)"
_CN_AMOUNT = re.compile(
    rf"(?<![{CN_NUMERAL}点\d])([{CN_NUMERAL}]+(?:点[零一二三四五六七八九]{{1,2}})?)\s*(多)?\s*"
    r"(元|块钱|块|圆)(?:([一二三四五六七八九])(?:毛|角)?)?")
_MORE_THAN = re.compile(rf"(?<![\d.])(?<!\d,){_NUM}\s*多\s*{_UNIT}?(?![A-Za-z])", re.I)
_RANGE = re.compile(
    rf"(?<![0-9A-Za-z_.-])(?<!\d,){_NUM}\s*{_UNIT}?\s*(?:-|~|～|—|到|至|to)\s*(?:¥|\$)?{_NUM}\s*{_UNIT}?"
    r"(?![0-9A-Za-z_.,%-])"
    rf"|(?<![A-Za-z])between\s+(?:¥|\$)?{_NUM}\s+and\s+(?:¥|\$)?{_NUM}\s*{_UNIT}?(?![A-Za-z\d])",
    re.I)
_APPROX = re.compile(
    rf"(?:(?<![A-Za-z])(?:about|around|approx(?:imately)?\.?|roughly|almost|nearly|circa)\s*"
    rf"|[~≈]\s*|大概|大约|约|差不多|将近|接近)\s*(?:¥|\$)?\s*{_NUM}\s*{_UNIT}?(?![0-9A-Za-z_.])"
    rf"(?:\s*(?:左右|上下))?"
    rf"|(?<![\d.])(?<!\d,){_NUM}\s*{_UNIT}?\s*(?:左右|上下|前后)", re.I)


def _take_amounts(st: _State) -> None:
    for m in st.matches(_RANGE):
        _take_range(st, m)
    for m in st.matches(_APPROX):
        number, unit = (m[1], m[2]) if m[1] else (m[3], m[4])
        _add_amount(st, m, number, (unit or "").lower(),
                    tolerance=(APPROX_AMOUNT_TOLERANCE, APPROX_AMOUNT_MIN_TOLERANCE))
    for m in st.matches(_MORE_THAN):
        value = _decimal(m[1])
        if value is not None and value == value.to_integral_value() and value >= 10:
            step = _more_than_step(int(value))
            _add_window(st, m, value, value, value + step - CENT, (m[2] or "").lower())
    for m in st.matches(_CN_AMOUNT):
        _take_cn_amount(st, m)
    for m in st.matches(_AMOUNT_SUFFIX):  # "100元" first: more common than "RMB 100"
        _add_amount(st, m, m[1], m[2].lower())
    for m in st.matches(_AMOUNT_PREFIX):
        _add_amount(st, m, m[3], (m[1] or m[2] or "").lower())
    for m in st.matches(_AMOUNT_DECIMAL):
        _add_amount(st, m, m[1], None)


def _more_than_step(value: int) -> int:
    """"50多" means 50-59, "一百多" 100-199, "120多" 120-129: the last non-zero place."""
    step = 1
    while value % (step * 10) == 0:
        step *= 10
    return max(step, 10) if value >= 10 else 1


def _take_range(st: _State, m: re.Match[str]) -> None:
    units: tuple[str | None, ...]
    if m[1] is not None:
        low_text, high_text, units = m[1], m[3], (m[2], m[4])
    else:
        low_text, high_text, units = m[5], m[6], (m[7],)
    low, high = _decimal(low_text), _decimal(high_text)
    unit = next((u for u in units if u), None)
    dashed = m[1] is not None and re.search(r"\d\s*-\s*\d", m.group()) is not None
    if low is None or high is None or not low < high or (dashed and unit is None
                                                         and (low < 1 or high > MAX_BARE_AMOUNT)):
        return
    slack = max(low * WHOLE_AMOUNT_TOLERANCE, WHOLE_AMOUNT_MIN_TOLERANCE).quantize(CENT)
    _add_window(st, m, (low + high) / 2, max(low - slack, Decimal("0.00")),
                high + slack, (unit or "").lower())


def _take_cn_amount(st: _State, m: re.Match[str]) -> None:
    """"一百元", "五十块", "九十八点五元", "三十块五" (35 jiao is 3.5 yuan: 块 then 毛)."""
    value = cn_decimal(m[1])
    if value is None:
        st.consume(m)
        return
    if m[4] and "点" not in m[1]:
        value += Decimal(_count(m[4]) or 0) / 10
    if m[2]:  # "一百多块"
        step = _more_than_step(int(value)) if value == value.to_integral_value() else 1
        _add_window(st, m, value, value, value + step - CENT, m[3])
        return
    _add_amount(st, m, str(value), m[3])


def _decimal(number: str | None) -> Decimal | None:
    if not number:
        return None
    try:
        return Decimal(number.replace(",", "")).quantize(CENT)
    except InvalidOperation:
        return None


def _add_amount(st: _State, m: re.Match[str], number: str, marker: str | None,
                tolerance: tuple[Decimal, Decimal] = (WHOLE_AMOUNT_TOLERANCE,
                                                      WHOLE_AMOUNT_MIN_TOLERANCE)) -> None:
    value = _decimal(number)
    if value is None:
        st.consume(m)
        return
    if "." in number and value != value.to_integral_value() or re.search(r"\.\d", number):
        slack = EXACT_AMOUNT_TOLERANCE
    else:
        slack = max(value * tolerance[0], tolerance[1]).quantize(CENT)
    _add_window(st, m, value, max(value - slack, Decimal("0.00")), value + slack, marker)


def _add_window(st: _State, m: re.Match[str], value: Decimal, low: Decimal, high: Decimal,
                marker: str | None, bare: bool = False) -> None:
    if not bare:
        st.consume(m)
    value = value.quantize(CENT)
    amount = Amount(value=value, low=low.quantize(CENT), high=high.quantize(CENT),
                    label=m.group().strip(), currency=_CURRENCY.get(marker or ""), bare=bare)
    if all(a.value != value for a in st.amounts) and len(st.amounts) < MAX_PER_KIND:
        st.amounts.append(amount)
        st.fragments.append(Fragment("amount", amount.label, str(value), m.start()))


_BARE_NUMBER = re.compile(r"(?<![0-9A-Za-z_.:%+-])(?<!\d,)([1-9]\d{0,4})(?![0-9A-Za-z_.,:%]|-\w)")


def _take_bare_amounts(st: _State) -> None:
    """Numbers left without a currency ("steam wallet 50") may be what was paid.

    They stay in the text too: "50" may as well be the face value in the product's name,
    and the ranker accepts either reading.
    """
    if st.amounts:
        return  # an amount with a currency was given: the bare numbers are something else
    for m in st.matches(_BARE_NUMBER):
        value = Decimal(m[1])
        slack = max(value * WHOLE_AMOUNT_TOLERANCE, WHOLE_AMOUNT_MIN_TOLERANCE).quantize(CENT)
        _add_window(st, m, value, max(value - slack, Decimal("0.00")), value + slack, None,
                    bare=True)


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


# A card-key piece as printed: upper-case groups joined by dashes or spaces ("NAB4-NQ3L",
# "3 JPEU YAR5 Z"), or any-case groups joined by dashes ("z9-s63ch-j").
_CODE_CHAIN = re.compile(
    r"(?<![0-9A-Za-z-])(?:[0-9A-Z]+(?:(?:-| )[0-9A-Z]+)+|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)+)"
    r"(?![0-9A-Za-z]|-[0-9A-Za-z])")
_CODE_TOKEN = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{6,64}(?![0-9A-Za-z])")
_NOT_CODE = re.compile(r"[^0-9A-Za-z]+")


def normalise_code(text: str) -> str:
    """How a card-key piece is compared: letters and digits only, upper case."""
    return _NOT_CODE.sub("", text).upper()


def _take_codes(st: _State) -> None:
    """Pieces of card-key secrets and serials; they stay in the text for the other readings.

    Runs the keys step took (order numbers, "NAB4-NQ3L") are looked up as pieces too, from
    the keys.  A dashed chain with a digit is consumed (it is no product name); chains
    joined by spaces and letter-only chains are not ("STEAM WALLET 50" is also words).
    """
    for m in st.matches(_CODE_CHAIN):
        groups = re.split(r"[- ]", m.group())
        code = normalise_code(m.group())
        if not MIN_CODE <= len(code) <= MAX_CODE or code.isdigit():
            continue
        if " " in m.group() and len(groups) > 2 and all(g.isalpha() and len(g) > 3 for g in groups):
            continue  # "HELLO WORLD THERE": shouting, not a code
        st.add("code", code, m.group(), m.start())
        if " " not in m.group() and any(c.isdigit() for c in code):
            st.consume(m)
    for m in st.matches(_CODE_TOKEN):
        token = m.group()
        has_digit = any(c.isdigit() for c in token)
        if (has_digit and not token.isdigit()) or (token.isupper() and not has_digit):
            st.add("code", token.upper(), token, m.start())


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
    _take_emails, _take_ips, _take_phones, _take_times, _take_dates, _take_amounts,
    _take_statuses, _take_categories, _take_keys, _take_codes, _take_bare_amounts,
    _take_words,
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
