"""The small rules behind the detail screen: safe proof images, tag spelling, key lookup."""
from __future__ import annotations

import pytest

from adapters.base import Buyer, CardKey
from console.orders.detail import buyer_search_text, safe_image_url
from console.orders.notes import InvalidNote, clean_body
from console.orders.reveal import AmbiguousSerial, CardKeyNotFound, find_key
from console.orders.tags import InvalidTag, normalise_tag
from tests.conftest import sample_orders


@pytest.mark.parametrize("url", [
    "https://shop.example/p/1.png",
    "http://10.0.0.5/proof?id=3&size=large",
    "data:image/png;base64,iVBORw0KGgo=",
    "DATA:IMAGE/JPEG;BASE64,/9j/4AAQ",
    "  https://shop.example/padded.jpg  ",
])
def test_web_and_raster_data_images_are_shown(url: str) -> None:
    assert safe_image_url(url) == url.strip()


@pytest.mark.parametrize("url", [
    None, "", "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>x</script>",
    "data:image/svg+xml;base64,PHN2Zz4=", "//evil.example/x.png", "ftp://x/y.png",
    "file:///etc/passwd", 'https://x.example/a.png" onerror="alert(1)',
    "https://x.example/a b.png", "vbscript:msgbox",
])
def test_everything_else_is_not_an_image_source(url) -> None:
    assert safe_image_url(url) is None


@pytest.mark.parametrize("raw, tag", [
    ("Repeat Buyer", "repeat buyer"),
    ("  repeat \t  buyer ", "repeat buyer"),
    ("SUSPICIOUS", "suspicious"),
    ("代充", "代充"),
    ("x" * 40, "x" * 40),
])
def test_tags_have_one_spelling(raw: str, tag: str) -> None:
    assert normalise_tag(raw) == tag


@pytest.mark.parametrize("raw", ["", "  ", None, "x" * 41, "a\x07b", "zero\u200bwidth"])
def test_unreadable_tags_are_refused(raw) -> None:
    with pytest.raises(InvalidTag):
        normalise_tag(raw)


def test_notes_are_trimmed_and_bounded() -> None:
    assert clean_body("  hi\n") == "hi"
    for bad in ("", " \n ", None, "y" * 4001):
        with pytest.raises(InvalidNote):
            clean_body(bad)


KEYS = (CardKey("A", "s1"), CardKey("", "s2"), CardKey("", "s3"), CardKey("B", "s4"))


def test_keys_are_found_by_serial_or_position() -> None:
    assert find_key(KEYS, "B", None).index == 3
    assert find_key(KEYS, None, 2).key.secret == "s3"
    assert find_key(KEYS, "", 1).key.secret == "s2"


@pytest.mark.parametrize("serial, index, error", [
    ("C", None, CardKeyNotFound), (None, 4, CardKeyNotFound), (None, -1, CardKeyNotFound),
    ("A", 3, CardKeyNotFound), ("", None, AmbiguousSerial),
])
def test_key_lookup_refuses_wrong_or_ambiguous_requests(serial, index, error) -> None:
    with pytest.raises(error):
        find_key(KEYS, serial, index)


def test_buyer_is_searched_the_way_the_store_recognises_buyers() -> None:
    order = sample_orders(1)[0]
    assert buyer_search_text(order.replace(buyer=Buyer("acc", "139", "e@x"))) == "139"
    assert buyer_search_text(order.replace(buyer=Buyer("acc", None, "e@x"))) == "e@x"
    assert buyer_search_text(order.replace(buyer=Buyer("acc"))) == "acc"
    assert buyer_search_text(order.replace(buyer=Buyer())) is None
