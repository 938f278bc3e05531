"""Chinese numerals as customers write them: "一百", "五十", "两千三", "九十八点五", "三十一".

Amounts ("一百元", "五十块") and dates ("十一月三号") arrive in Chinese numerals as often
as in digits; the parser turns them into numbers here.  Only what people actually say
is read (up to 万, with 点 decimals); anything odd gives ``None`` rather than a guess.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

__all__ = ["CN_DIGITS", "CN_NUMERAL", "cn_decimal", "cn_integer"]

CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_UNITS = {"十": 10, "百": 100, "千": 1000}
# the characters a Chinese numeral may use, for regular expressions
CN_NUMERAL = "零〇一二两三四五六七八九十百千万"
MAX_VALUE = 10**9


def cn_integer(text: str) -> int | None:
    """"三十一" -> 31, "一百零五" -> 105, "两千三" -> 2300, "二〇二六" -> 2026; else None."""
    if not text or any(c not in CN_DIGITS and c not in _UNITS and c != "万" for c in text):
        return None
    if all(c in CN_DIGITS for c in text):  # digit by digit: "二〇二六", "五"
        return int("".join(str(CN_DIGITS[c]) for c in text))
    if "万" not in text:
        return _below_10000(text)
    high, _, low = text.partition("万")
    upper = _below_10000(high) if high else 1
    lower = _below_10000(low) if low else 0
    if upper is None or lower is None or "万" in low:
        return None
    if len(low) == 1 and low in CN_DIGITS:  # "一万二": 12,000
        lower *= 1000
    return upper * 10000 + lower


def _below_10000(text: str) -> int | None:
    """A numeral under 10,000; "两千三" means 2300 (a trailing digit takes the next unit)."""
    total, digit, last_unit, gap = 0, None, 10**5, False
    for ch in text:
        if ch in CN_DIGITS:
            value = CN_DIGITS[ch]
            if digit is not None:
                return None  # "三四" inside a positional numeral
            if value == 0:
                gap = True  # "一百零五": the zero only marks a skipped unit
            else:
                digit = value
        elif ch in _UNITS:
            unit = _UNITS[ch]
            if unit >= last_unit:
                return None  # "十百", "百百"
            total += (1 if digit is None else digit) * unit
            digit, last_unit, gap = None, unit, False
        else:
            return None
    if digit is not None:
        scale = last_unit // 10 if total and not gap and last_unit >= 100 else 1
        total += digit * scale
    return total


def cn_decimal(text: str) -> Decimal | None:
    """"九十八点五" -> 98.5, "一百" -> 100; digits may be mixed in ("98点5")."""
    whole, sep, fraction = text.partition("点")
    number = _int_or_cn(whole)
    if number is None or number > MAX_VALUE:
        return None
    if not sep:
        return Decimal(number)
    if not fraction or len(fraction) > 2:
        return None
    digits = "".join(str(CN_DIGITS[c]) if c in CN_DIGITS else c for c in fraction)
    if not digits.isdigit():
        return None
    try:
        return Decimal(f"{number}.{digits}")
    except InvalidOperation:
        return None


def _int_or_cn(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    return cn_integer(text)
