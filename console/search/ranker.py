"""Order the candidates a store returned by how well they fit what the customer said.

Each candidate collects *evidence points* for every fragment its summary
really matches (the store's ``hits`` only say which retrieval channel found
it, so each is re-checked against the summary's fields).  Points add up and are
squashed to a 0-100 score, so several weak fragments (phone tail + amount +
date) outweigh one of them, and a fragment shared by many candidates counts
less than one that singles a candidate out.  An exact order number is certain
and always scores 100.  Equal scores go newest first.  Each result also names
the fragments of the text it matched, as the customer wrote them, so an agent
sees at a glance that "2026-11-03" and "50" fit but "steem wallet" did not.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from rapidfuzz.distance import OSA

from adapters.base import Candidate, OrderSummary

from .parser import ParsedQuery

__all__ = ["Ranked", "rank", "WEIGHTS"]

UTC = timezone.utc

# Evidence points per matched fragment.  Identifiers are worth most; weak
# fragments are capped together (WEAK_CAP) so no pile of them can pass a
# one-character typo in an order number.
WEIGHTS: dict[str, float] = {
    "transaction_id": 200, "order_no~1": 160, "order_no~2": 120, "order_no_part": 60,
    "transaction_id~": 90, "phone": 90, "email": 90, "account": 80, "recipient": 80,
    "email~": 65, "email_part": 40, "phone~": 45, "ip": 40, "key": 60,
    "phone_tail": 35, "amount_exact": 30, "amount": 20, "date": 20, "product": 30,
    "category": 10, "status": 10, "text": 10, "time": 15,
    "code": 80, "code~": 50, "account~": 50, "recipient~": 50,
}
WEAK = frozenset({"phone_tail", "amount", "date", "product", "category", "status", "text", "ip",
                  "time"})
WEAK_CAP = 110.0
UNIQUE = frozenset({"order_no", "order_no~", "transaction_id", "transaction_id~"})
IDENTIFIED = UNIQUE | {"phone", "email", "account", "recipient", "ip", "code", "code~"}
SCALE = 60.0           # points at which the score reaches ~63 % of the way to 99
MAX_FUZZY_SCORE = 99.0  # only an exact order number is 100
RECENCY_POINTS = 3.0    # small nudge towards recent orders when evidence exists
RECENCY_DAYS = 14.0
AMBIGUITY = 0.3         # how fast a fragment loses weight as more candidates share it
PRODUCT_MIN = 60.0      # catalogue scores below this are not evidence
TEXT_CAP = 2            # at most this many word hits count
_NUMBER = re.compile(r"\d+(?:\.\d+)?")

# Which kinds of text fragment each evidence label stands for (for "matched_fragments").
FRAGMENT_KINDS: dict[str, frozenset[str]] = {
    "order_no": frozenset({"key", "code"}), "order_no~": frozenset({"key", "code"}),
    "transaction_id": frozenset({"key", "code"}), "transaction_id~": frozenset({"key", "code"}),
    "account": frozenset({"key", "code", "phone"}), "account~": frozenset({"key", "code"}),
    "recipient": frozenset({"key", "code", "phone"}),
    "recipient~": frozenset({"key", "code", "phone"}),
    "key": frozenset({"key", "code"}), "code": frozenset({"key", "code"}),
    "code~": frozenset({"key", "code"}),
    "phone": frozenset({"phone", "key"}), "phone~": frozenset({"phone", "key"}),
    "phone_tail": frozenset({"phone_tail"}), "email": frozenset({"email"}),
    "email~": frozenset({"email", "email_fragment"}), "ip": frozenset({"ip"}),
    "amount": frozenset({"amount"}), "date": frozenset({"date"}), "time": frozenset({"time"}),
    "product": frozenset({"word"}), "text": frozenset({"word"}),
    "category": frozenset({"category"}), "status": frozenset({"status"}),
}


@dataclass(frozen=True)
class Ranked:
    """A candidate with its score (0-100) and the names of the fragments it matched."""

    summary: OrderSummary
    score: float
    matched: tuple[str, ...]
    # the fragments of the text this order matched, as typed ("2026-11-03", "50")
    fragments: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"order_no": self.summary.order_no, "score": self.score,
                "matched": list(self.matched), "matched_fragments": list(self.fragments)}


def rank(parsed: ParsedQuery, candidates: Iterable[Candidate],
         catalogue_scores: Mapping[str, float], now: datetime) -> list[Ranked]:
    """Best candidate first; O(candidates x fragments), duplicates (same order_no) merged."""
    unique = _dedupe(candidates)
    now = _aware(now)
    probe = _Probe.of(parsed)
    evidences = [_evidence(probe, c, catalogue_scores) for c in unique]
    shared = _label_counts(evidences)
    ranked = [_score(c.summary, ev, shared, now, parsed) for c, ev in zip(unique, evidences)]
    ranked.sort(key=lambda r: (-r.score, -_aware(r.summary.created_at).timestamp(),
                               r.summary.order_no))
    return ranked


# --- the query, prepared once ------------------------------------------------

@dataclass(frozen=True)
class _Probe:
    keys: tuple[str, ...]
    phones: tuple[str, ...]
    tails: tuple[str, ...]
    emails: tuple[str, ...]
    email_parts: tuple[str, ...]
    ips: tuple[str, ...]
    parsed: ParsedQuery
    words: tuple[str, ...]

    @classmethod
    def of(cls, parsed: ParsedQuery) -> _Probe:
        digit_keys = tuple(k for k in parsed.keys if k.isdigit() and 10 <= len(k) <= 13)
        return cls(
            # an all-digit order number or QQ account may have been read as a phone
            keys=tuple(dict.fromkeys(
                _ident(k) for k in (*parsed.keys, *parsed.phones) if _ident(k))),
            phones=tuple(dict.fromkeys([*parsed.phones, *digit_keys])),
            tails=parsed.phone_tails,
            emails=tuple(e.casefold() for e in parsed.emails),
            email_parts=tuple(e.casefold() for e in parsed.email_fragments),
            ips=parsed.ips,
            parsed=parsed,
            words=tuple(w.casefold() for w in parsed.words if len(w) >= 2 and not w.isdigit()),
        )


# --- evidence per candidate --------------------------------------------------

Evidence = dict[str, float]  # matched label -> points


def _evidence(probe: _Probe, cand: Candidate, catalogue: Mapping[str, float]) -> Evidence:
    s = cand.summary
    ev: Evidence = {}
    _identifiers(probe, s, ev)
    _contacts(probe, s, ev)
    _facts(probe.parsed, s, ev)
    _product(probe, s, catalogue, ev)
    _unverified_hits(cand.hits, ev)
    return ev


def _put(ev: Evidence, label: str, points: float) -> None:
    ev[label] = max(ev.get(label, 0.0), points)


def _identifiers(probe: _Probe, s: OrderSummary, ev: Evidence) -> None:
    order_no = _ident(s.order_no)
    tx = _ident(s.transaction_id)
    account = _ident(s.buyer.account)
    recipient = _ident(s.recipient_account)
    for key in probe.keys:
        if key == order_no:
            _put(ev, "order_no", math.inf)
        elif order_no and (d := _typo_distance(key, order_no)) is not None:
            _put(ev, "order_no~", WEIGHTS["order_no~1" if d <= 1 else "order_no~2"])
        elif order_no and len(key) >= 6 and key in order_no:
            # a partial order number: the longer the part, the surer the match
            _put(ev, "order_no~", WEIGHTS["order_no_part"] * (1 + len(key) / len(order_no)))
        if tx and key == tx:
            _put(ev, "transaction_id", WEIGHTS["transaction_id"])
        elif tx and (_typo_distance(key, tx) is not None or (len(key) >= 8 and key in tx)):
            _put(ev, "transaction_id~", WEIGHTS["transaction_id~"])
        if account and key == account:
            _put(ev, "account", WEIGHTS["account"])
        elif account and len(key) >= 8 and _typo_distance(key, account) is not None:
            _put(ev, "account~", WEIGHTS["account~"])
        if recipient and key == recipient:
            _put(ev, "recipient", WEIGHTS["recipient"])
        elif recipient and len(key) >= 8 and _typo_distance(key, recipient) is not None:
            _put(ev, "recipient~", WEIGHTS["recipient~"])


def _contacts(probe: _Probe, s: OrderSummary, ev: Evidence) -> None:
    phone = _phone(s.buyer.phone)
    recipient_phone = _phone(s.recipient_account)
    for wanted in probe.phones:
        exact = [label for have, label in ((phone, "phone"), (recipient_phone, "recipient"))
                 if have and have == wanted]
        for label in exact:
            _put(ev, label, WEIGHTS[label])
        if not exact and any(h and OSA.distance(h, wanted, score_cutoff=1) <= 1
                             for h in (phone, recipient_phone)):
            _put(ev, "phone~", WEIGHTS["phone~"])
    for tail in probe.tails:
        if (phone and phone.endswith(tail)) or (recipient_phone and recipient_phone.endswith(tail)):
            _put(ev, "phone_tail", WEIGHTS["phone_tail"])
    emails = [e for e in (_fold(s.buyer.email), _fold(s.recipient_account)) if e and "@" in e]
    for email in emails:
        for wanted in probe.emails:
            if email == wanted:
                _put(ev, "email", WEIGHTS["email"])
            elif _typo_distance(wanted, email) is not None:
                _put(ev, "email~", WEIGHTS["email~"])
        if any(part in email for part in probe.email_parts):
            _put(ev, "email~", WEIGHTS["email_part"])
    if s.buyer_ip and s.buyer_ip.strip() in probe.ips:
        _put(ev, "ip", WEIGHTS["ip"])


def _facts(parsed: ParsedQuery, s: OrderSummary, ev: Evidence) -> None:
    paid = s.amount_paid
    if paid is not None:
        for amount in parsed.amounts:
            if abs(paid - amount.value) <= Decimal("0.01"):
                _put(ev, "amount", WEIGHTS["amount_exact"])
            elif amount.low <= paid <= amount.high:
                _put(ev, "amount", WEIGHTS["amount"])
            elif amount.bare and amount.value in _name_numbers(s.product_name):
                _put(ev, "amount", WEIGHTS["amount"])  # "steam wallet 50": the face value
    if parsed.time_window is not None:
        closeness = parsed.time_window.closeness(_aware(s.created_at))
        if closeness > 0:
            _put(ev, "time", WEIGHTS["time"] * closeness)
    if parsed.created_from or parsed.created_to:
        created = _aware(s.created_at)
        if ((parsed.created_from is None or created >= parsed.created_from)
                and (parsed.created_to is None or created < parsed.created_to)):
            _put(ev, "date", WEIGHTS["date"])
    if s.status in parsed.statuses:
        _put(ev, "status", WEIGHTS["status"])
    if s.category in parsed.categories:
        _put(ev, "category", WEIGHTS["category"])


def _product(probe: _Probe, s: OrderSummary, catalogue: Mapping[str, float],
             ev: Evidence) -> None:
    score = catalogue.get(s.sku or "", 0.0) if s.sku else 0.0
    if score >= PRODUCT_MIN:
        _put(ev, "product", WEIGHTS["product"] * min(score, 100.0) / 100.0)
    haystack = " ".join(x.casefold() for x in (s.product_name, s.recipient_account,
                                               s.buyer.account) if x)
    hits = sum(1 for w in probe.words if w in haystack)
    if hits and "product" not in ev:
        _put(ev, "text", WEIGHTS["text"] * min(hits, TEXT_CAP))


def _unverified_hits(hits: frozenset[str], ev: Evidence) -> None:
    """Trust the store a little where the summary cannot show the field (card serial, remark)."""
    if "key" in hits and not IDENTIFIED & ev.keys():
        _put(ev, "key", WEIGHTS["key"])
    if "substring" in hits and not {"text", "product", "email~", "order_no~"} & ev.keys():
        _put(ev, "text", WEIGHTS["text"])
    if "code" in hits:
        _put(ev, "code", WEIGHTS["code"])
    elif "code~" in hits:
        _put(ev, "code~", WEIGHTS["code~"])


# --- scoring -----------------------------------------------------------------

def _label_counts(evidences: list[Evidence]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ev in evidences:
        for label in ev:
            counts[label] = counts.get(label, 0) + 1
    return counts


def _score(s: OrderSummary, ev: Evidence, shared: dict[str, int], now: datetime,
           parsed: ParsedQuery) -> Ranked:
    matched = tuple(sorted(ev, key=lambda label: -ev[label]))
    kinds = set().union(*(FRAGMENT_KINDS.get(label, frozenset()) for label in ev))
    fragments = tuple(dict.fromkeys(f.label for f in parsed.fragments if f.kind in kinds))
    if "order_no" in ev:
        return Ranked(s, 100.0, matched, fragments)
    strong = weak = 0.0
    for label, points in ev.items():
        if label not in UNIQUE:
            points /= 1 + AMBIGUITY * math.log(shared.get(label, 1))
        if label in WEAK:
            weak += points
        else:
            strong += points
    total = strong + min(weak, WEAK_CAP)
    if total > 0:
        total += RECENCY_POINTS * _recency(s.created_at, now)
    score = MAX_FUZZY_SCORE * (1 - math.exp(-total / SCALE))
    return Ranked(s, round(score, 2), matched, fragments)


def _name_numbers(name: str | None) -> set[Decimal]:
    """Numbers in a product's name ("Steam Wallet $50" -> {50}), as two-place Decimals."""
    return {Decimal(n).quantize(Decimal("0.01")) for n in _NUMBER.findall(name or "")}


def _recency(created: datetime, now: datetime) -> float:
    age_days = max((now - _aware(created)).total_seconds() / 86400, 0.0)
    return math.exp(-age_days / RECENCY_DAYS)


# --- normalisers -------------------------------------------------------------

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")


def _ident(value: str | None) -> str:
    """Identifiers compare without case, spaces or dashes: "kd-2026 0001" == "KD20260001"."""
    return _NON_ALNUM.sub("", value).upper() if value else ""


def _phone(value: str | None) -> str:
    """Digits of a Chinese mobile, without +86/0086; '' if it is not one."""
    if not value:
        return ""
    digits = re.sub(r"\D", "", value)
    for prefix in ("0086", "86"):
        if len(digits) == 11 + len(prefix) and digits.startswith(prefix):
            digits = digits[len(prefix):]
    return digits if len(digits) == 11 and digits.startswith("1") else ""


def _fold(value: str | None) -> str:
    return value.strip().casefold() if value else ""


def _typo_distance(a: str, b: str) -> int | None:
    """Edit distance counting a swap of neighbours as one edit, if small enough to be a typo.

    One slip is allowed from 8 characters, two from 16; shorter tokens are
    too easy to hit by chance.
    """
    allowed = 2 if min(len(a), len(b)) >= 16 else 1 if min(len(a), len(b)) >= 8 else 0
    if not allowed or abs(len(a) - len(b)) > allowed:
        return None
    d = OSA.distance(a, b, score_cutoff=allowed)
    return d if 0 < d <= allowed else None


def _aware(value: datetime) -> datetime:
    """Stores should give aware datetimes; a naive one is taken as UTC rather than crash."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _dedupe(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Stores may return one order from two channels; keep it once with the union of hits."""
    by_no: dict[str, Candidate] = {}
    for c in candidates:
        seen = by_no.get(c.summary.order_no)
        merged = c if seen is None else Candidate(seen.summary, seen.hits | c.hits)
        by_no[c.summary.order_no] = merged
    return list(by_no.values())
