"""Order search: what the agent typed and picked goes in, ranked orders come out.

This is orchestration only; the rules live in the pure modules beside it:
``parser`` reads the text, ``catalogue`` matches product words, the store's
``search`` retrieves a bounded candidate set through its indexes and
``ranker`` orders it.  No Flask here: the API, the page and the exports call
:func:`search_orders` with a store, a catalogue, a clock and a zone.

Filters the agent picks (status, category, dates, tags) are *hard*: they
exclude.  What the text implies (a status word such as "没收到", a category
word, an amount, a date) is *soft*: it ranks and fills the candidate set
first, but never hides an order.  "没收到卡密" reads as processing/paid/failed,
yet the order the customer means may be delivered with the mail in spam.
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo

from adapters.base import Candidate, OrderStore, SearchQuery, StoreError

from .catalogue import Catalogue
from .parser import ParsedQuery, merge_filters, parse_query
from .ranker import Ranked, rank

__all__ = [
    "CANDIDATES", "EXPORT_CAP", "MAX_QUERY_CHARS", "CatalogueCache", "InvalidSearch",
    "SearchRequest", "SearchResult", "search_orders", "split_tags",
]

CANDIDATES = 100          # candidates ranked for one screen of results
MAX_CANDIDATES = 1000     # deepest page reachable in a filter-only search
EXPORT_CAP = 10_000       # rows in one export
MAX_QUERY_CHARS = 10_000  # longer text is refused (the parser reads the first 500 anyway)
MAX_TAGS = 10
TAG_CHARS = 40
PRODUCT_MATCHES = 10      # products whose orders are fetched for misspelt product words,
MAX_PRODUCTS = 16         # more only when tied with the tenth
CATEGORY_BONUS = 5.0      # a product of a category the text named wins a tie
PRODUCT_SPREAD = 15.0     # products scoring this far below the best are not fetched
CATALOGUE_TTL = 300.0     # seconds before the product list is read again

_TAG = re.compile(r"(?<![^\s\x00])(?:tag|标签)\s*[:：]\s*(?:\"([^\"]{1,80})\"|“([^”]{1,80})”|(\S{1,80}))",
                  re.I)

Tagged = Callable[[str], list[str]]


class InvalidSearch(ValueError):
    """A parameter the console cannot search by; the API answers 400 with ``code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SearchRequest:
    """One search as the agent asked it: free text plus the filters picked in the UI."""

    text: str = ""
    status: str | Sequence[str] | None = None
    category: str | Sequence[str] | None = None
    date_from: str | None = None
    date_to: str | None = None
    tags: tuple[str, ...] = ()
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class SearchResult:
    """A page of ranked orders and how the query was understood."""

    parsed: ParsedQuery
    request: SearchRequest
    tags: tuple[str, ...]
    page: tuple[Ranked, ...]
    total: int
    capped: bool
    mode: str                         # "latest" (empty box), "search", or "nothing" to search by
    took_ms: float
    chips: tuple[dict[str, str], ...] = field(default_factory=tuple)

    @property
    def has_more(self) -> bool:
        return self.request.offset + len(self.page) < self.total


# --- the product catalogue, held per application ---------------------------------

class CatalogueCache:
    """The shop's products in memory, read again when older than ``ttl`` seconds.

    Reading the products is cheap (thousands of rows) but not free, so one
    request rebuilds while the others keep using the previous catalogue.
    """

    def __init__(self, ttl: float = CATALOGUE_TTL) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._catalogue: Catalogue | None = None
        self._built = float("-inf")

    def get(self, store: OrderStore) -> Catalogue:
        fresh = self._catalogue is not None and time.monotonic() - self._built < self.ttl
        if fresh:
            return self._catalogue  # type: ignore[return-value]
        if self._lock.acquire(blocking=self._catalogue is None):
            try:
                if self._catalogue is None or time.monotonic() - self._built >= self.ttl:
                    self._rebuild(store)
            finally:
                self._lock.release()
        return self._catalogue if self._catalogue is not None else Catalogue(())

    def _rebuild(self, store: OrderStore) -> None:
        try:
            self._catalogue = Catalogue(store.products())
        except StoreError:
            if self._catalogue is None:
                raise
        self._built = time.monotonic()

    def invalidate(self) -> None:
        """Read the products again on the next search (after an import, say)."""
        self._built = float("-inf")


# --- the search --------------------------------------------------------------------

def split_tags(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Take ``tag:vip`` / ``tag:"repeat buyer"`` / ``标签:xx`` out of the text.

    Returns the rest of the text and ``(as typed, tag)`` pairs: the typed form
    is what a removed chip takes out of the search box.
    """
    tags: list[tuple[str, str]] = []

    def take(m: re.Match[str]) -> str:
        tags.append((m.group().strip(), next(g for g in m.groups() if g)))
        return " "

    return _TAG.sub(take, text or ""), tags


def normalise_tags(raw: Iterable[str]) -> tuple[str, ...]:
    """Trimmed, inner spaces collapsed, case-folded, de-duplicated; refuse absurd ones."""
    out: list[str] = []
    for item in raw:
        tag = " ".join(str(item).split()).casefold()
        if not tag:
            continue
        if len(tag) > TAG_CHARS or any(ord(ch) < 32 for ch in tag):
            raise InvalidSearch("invalid_parameter", f"a tag is at most {TAG_CHARS} characters")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise InvalidSearch("invalid_parameter", f"at most {MAX_TAGS} tags at once")
    return tuple(out)


def search_orders(store: OrderStore, request: SearchRequest, *, catalogue: Catalogue,
                  now: datetime, tz: tzinfo, tagged: Tagged | None = None,
                  cap: int | None = None) -> SearchResult:
    """Parse, retrieve, rank and page one search; ``cap`` bounds the candidates (exports).

    Raises :class:`InvalidSearch` for parameters that cannot mean anything.
    """
    started = time.perf_counter()
    text = request.text or ""
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidSearch("query_too_long",
                            f"the query is {len(text):,} characters; at most {MAX_QUERY_CHARS:,}")
    text, text_tags = split_tags(text)
    tags = normalise_tags([*(tag for _, tag in text_tags), *request.tags])
    try:
        parsed = merge_filters(parse_query(text, now=now, tz=tz), status=request.status,
                               category=request.category, date_from=request.date_from,
                               date_to=request.date_to, tz=tz)
    except ValueError as exc:
        raise InvalidSearch("invalid_parameter", str(exc)) from None
    if parsed.created_from and parsed.created_to and parsed.created_from >= parsed.created_to:
        raise InvalidSearch("invalid_parameter", "the date range ends before it starts")
    chips = tuple(_chips(parsed, request, text_tags, tags))

    def result(page, total, capped, mode) -> SearchResult:
        took = (time.perf_counter() - started) * 1000
        return SearchResult(parsed, request, tags, tuple(page), total, capped, mode,
                            round(took, 1), chips)

    if parsed.is_empty and not tags:
        latest = store.recent(offset=request.offset, limit=request.limit)
        page = [Ranked(s, 0.0, ()) for s in latest.items]
        return result(page, latest.total, False, "latest")
    bound = cap or min(MAX_CANDIDATES, max(CANDIDATES, request.offset + request.limit))
    scores, skus = _products(catalogue, parsed)
    query = _store_query(parsed, request, skus, bound)
    if not _searchable(query) and not tags:
        return result([], 0, False, "nothing")
    candidates = _candidates(store, query, tags, tagged)
    ranked = rank(parsed, candidates, scores, now)
    if tags:
        ranked = [Ranked(r.summary, r.score, (*r.matched, "tag"), r.fragments)
                  for r in ranked]
    page = ranked[request.offset:request.offset + request.limit]
    return result(page, len(ranked), len(candidates) >= bound, "search")


def _products(catalogue: Catalogue, parsed: ParsedQuery) -> tuple[dict[str, float], list[str]]:
    """Catalogue scores for the ranker, and the products whose orders are worth fetching.

    Words the parser read as a category ("话费", "gift card") are gone from the
    words, so products of those categories win ties: "中国动话费" means the
    phone-credit products of 中国移动, not its data packs.  Ties at the cut-off
    are kept (up to ``MAX_PRODUCTS``) so a face value nobody mentioned is not
    dropped by alphabetical order.  Products far below the best match ("点券" in
    every game when the text names 英雄联盟) only rank, they are not fetched.
    """
    if not parsed.words:
        return {}, []
    matches = catalogue.match(parsed.words, limit=MAX_PRODUCTS * 2)
    boosted = sorted(((score + (CATEGORY_BONUS if p.category in parsed.categories else 0.0), p.sku)
                      for p, score in matches), key=lambda m: -m[0])
    if not boosted:
        return {}, []
    cut = max(boosted[min(PRODUCT_MATCHES, len(boosted)) - 1][0], boosted[0][0] - PRODUCT_SPREAD)
    skus = [sku for score, sku in boosted if score >= cut][:MAX_PRODUCTS]
    return {p.sku: score for p, score in matches}, skus


def _store_query(parsed: ParsedQuery, request: SearchRequest, skus: list[str],
                 bound: int) -> SearchQuery:
    """The retrieval query: explicit filters hard, what the text implied soft."""
    base = parsed.to_search_query(limit=min(bound, 1000), skus=skus)
    soft = {"amount"}
    if not (request.date_from or request.date_to):
        soft.add("created")
    if not request.status:
        soft.add("statuses")
    if not request.category:
        soft.add("categories")
    extra = [e.split("@", 1)[0] for e in parsed.emails]          # a typo in the domain
    extra += [f.label for f in parsed.fragments                   # serials keep their dashes
              if f.kind == "key" and f.label != f.value and "-" in f.label]
    substrings = list(dict.fromkeys([*base.substrings, *(s for s in extra if len(s) >= 3)]))
    return replace(base, substrings=tuple(substrings), soft=frozenset(soft), limit=bound)


def _searchable(query: SearchQuery) -> bool:
    return bool(query.keys or query.phone_tails or query.skus or query.substrings
                or query.amount_min is not None or query.amount_max is not None
                or query.created_from or query.created_to or query.statuses
                or query.categories)


def _candidates(store: OrderStore, query: SearchQuery, tags: tuple[str, ...],
                tagged: Tagged | None) -> list[Candidate]:
    """Store tags filter in the store; the console's own tags by order number."""
    if not tags:
        return store.search(query)
    spellings = frozenset({*tags, *(t.title() for t in tags)})
    found = list(store.search(replace(query, tags=spellings)))
    numbers: list[str] = []
    for tag in tags:
        numbers.extend(tagged(tag) if tagged else [])
    if numbers:
        wanted = set(numbers)
        if _searchable(query):
            more = [c for c in store.search(query) if c.summary.order_no in wanted]
        else:
            keyed = replace(query, keys=tuple(dict.fromkeys(numbers))[:query.limit])
            more = [Candidate(c.summary, (c.hits - {"key"}) | {"tag"})
                    for c in store.search(keyed) if c.summary.order_no in wanted]
        seen = {c.summary.order_no for c in found}
        found += [c for c in more if c.summary.order_no not in seen]
    return found[:query.limit]


# --- chips: how the query was understood, each removable ----------------------------

def _chips(parsed: ParsedQuery, request: SearchRequest, text_tags: list[tuple[str, str]],
           tags: tuple[str, ...]) -> Iterable[dict[str, str]]:
    for chip in parsed.chips():
        yield {**chip, "source": "text"}
    typed = set()
    for label, tag in text_tags:
        value = " ".join(tag.split()).casefold()
        typed.add(value)
        yield {"kind": "tag", "label": label, "value": value, "source": "text"}
    for tag in tags:
        if tag not in typed:
            yield {"kind": "tag", "label": tag, "value": tag, "source": "filter", "param": "tag"}
    if request.status:
        yield _filter_chip("status", request.status, "status")
    if request.category:
        yield _filter_chip("category", request.category, "category")
    if request.date_from or request.date_to:
        label = f"{request.date_from or '…'} – {request.date_to or '…'}"
        yield {"kind": "date", "label": label, "value": label, "source": "filter",
               "param": "from,to"}


def _filter_chip(kind: str, value: str | Sequence[str], param: str) -> dict[str, str]:
    text = value if isinstance(value, str) else ",".join(value)
    return {"kind": kind, "label": text, "value": text, "source": "filter", "param": param}
