"""Fuzzy product lookup: "stema 100", "爱奇异会员" and "q币100" must still find the product.

A shop has thousands of products, not millions, so names are normalised once
and every query is scored against all of them with rapidfuzz's C++ scorers.
Text and numbers are scored apart: "steam 100" should prefer the 100 card
over the 50 card, but a typo in the text must not be drowned by the number.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

from adapters.base import Product

__all__ = ["Catalogue", "normalise_name", "DEFAULT_CUTOFF"]

DEFAULT_CUTOFF = 60.0
MAX_QUERY_WORDS = 12
# How much the best single word counts against all words together: the best
# word survives noise words ("stema urgent"), all words together separate
# "腾讯 视频" (腾讯视频) from "腾讯 Q币".
BEST_WORD_WEIGHT = 0.75
# Share of the score decided by a number in the query ("100") matching one in
# the product's name or face value.
NUMBER_WEIGHT = 0.15

# A character-coverage match is weaker evidence than a contiguous one.
CJK_COVERAGE_WEIGHT = 0.9

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_STRIP = re.compile(r"[\W_]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DIGITS = re.compile(r"\d+")
# Spellings customers use for words that the catalogue writes differently.
_ALIASES = {"qb": "q币", "qq币": "q币", "q点": "q币", "iqiyi": "爱奇艺", "qcoin": "q币",
            "qcoins": "q币"}


def normalise_name(text: str) -> str:
    """NFKC, case-folded, no spaces or punctuation: "Steam 钱包 100元" -> "steam钱包100元"."""
    return _STRIP.sub("", unicodedata.normalize("NFKC", text).casefold())


@dataclass(frozen=True)
class _Entry:
    product: Product
    text: str
    numbers: frozenset[Decimal]


class Catalogue:
    """A shop's products with pre-normalised names, for fuzzy matching of customer words."""

    def __init__(self, products: Iterable[Product]) -> None:
        self._entries = tuple(_entry(p) for p in products)
        self._texts = [e.text for e in self._entries]

    def __len__(self) -> int:
        return len(self._entries)

    def match(self, words: Sequence[str], limit: int = 10,
              cutoff: float = DEFAULT_CUTOFF) -> list[tuple[Product, float]]:
        """Best products for the customer's leftover words, best first, scores 0-100.

        Only words that look like product text are matched; pure numbers only
        refine the score ("100" alone would match every 100-yuan card).
        """
        texts, numbers = _query(words)
        if not texts or not self._entries or limit <= 0:
            return []
        text_scores = self._text_scores(texts)
        results = []
        for idx, text_score in text_scores.items():
            score = _with_numbers(text_score, numbers, self._entries[idx].numbers)
            if score >= cutoff:
                results.append((self._entries[idx].product, round(score, 1)))
        results.sort(key=lambda r: (-r[1], r[0].name))
        return results[:limit]

    def scores(self, words: Sequence[str], limit: int = 10,
               cutoff: float = DEFAULT_CUTOFF) -> dict[str, float]:
        """``{sku: score}`` of :meth:`match`, the shape the ranker takes."""
        return {p.sku: s for p, s in self.match(words, limit=limit, cutoff=cutoff)}

    def _text_scores(self, texts: list[str]) -> dict[int, float]:
        """Best single word blended with all words together, per product index."""
        floor = DEFAULT_CUTOFF / 2  # ignore products no word resembles at all
        best: dict[int, float] = {}
        for text in texts:
            for _, score, idx in process.extract(text, self._texts, scorer=fuzz.partial_ratio,
                                                 limit=None, score_cutoff=floor):
                score = max(score, _cjk_coverage(text, self._texts[idx]))
                best[idx] = max(best.get(idx, 0.0), score)
        if len(texts) == 1:
            return best
        joined = "".join(texts)
        return {idx: BEST_WORD_WEIGHT * score
                + (1 - BEST_WORD_WEIGHT) * fuzz.partial_ratio(joined, self._texts[idx])
                for idx, score in best.items()}


def _cjk_coverage(query: str, name: str) -> float:
    """Share of a Chinese query's characters found in order in the name.

    "爱奇异会员" vs "爱奇艺黄金会员": one wrong character and one inserted word
    defeat a contiguous alignment, yet 4 of 5 characters are there.  Only for
    CJK, where single characters carry meaning; Latin letters would match by
    chance ("hello" is scattered through many long English names).
    """
    if not _CJK.search(query):
        return 0.0
    return CJK_COVERAGE_WEIGHT * 100.0 * LCSseq.similarity(query, name) / len(query)


def _entry(product: Product) -> _Entry:
    text = normalise_name(product.name)
    numbers = {_decimal(n) for n in _NUMBER.findall(unicodedata.normalize("NFKC", product.name))}
    if product.face_value is not None:
        numbers.add(_decimal(str(product.face_value)))
    return _Entry(product, text, frozenset(n for n in numbers if n is not None))


def _query(words: Sequence[str]) -> tuple[list[str], set[Decimal]]:
    """Split words into product text (digits removed, aliases applied) and numbers."""
    texts: list[str] = []
    numbers: set[Decimal] = set()
    for word in list(words)[:MAX_QUERY_WORDS]:
        if not isinstance(word, str):
            continue
        norm = normalise_name(word)
        numbers.update(n for n in map(_decimal, _DIGITS.findall(norm)) if n is not None)
        text = _ALIASES.get(norm) or _DIGITS.sub("", norm)
        text = _ALIASES.get(text, text)
        if len(text) >= 2 and text not in texts:
            texts.append(text)
    return texts, numbers


def _with_numbers(text_score: float, wanted: set[Decimal], has: frozenset[Decimal]) -> float:
    if not wanted:
        return text_score
    hit = 100.0 if wanted & has else 0.0
    return (1 - NUMBER_WEIGHT) * text_score + NUMBER_WEIGHT * hit


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text).normalize()
    except InvalidOperation:
        return None
