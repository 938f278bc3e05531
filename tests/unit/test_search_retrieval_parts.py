"""The small pure pieces search retrieval is built from: typo neighbours, trigram queries, tags."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import OSA

from adapters.base import Product
from adapters.sql.retrieval import neighbours, trigram_query
from adapters.sql.search_rows import phone_tail, secret_digest
from console.search.service import CatalogueCache, InvalidSearch, normalise_tags, split_tags

ORDER_NO = "KD202611250384019265"


def test_neighbours_hold_every_single_slip_of_an_order_number():
    near = set(neighbours(ORDER_NO))
    assert ORDER_NO not in near
    assert "KD202611250384019205" in near   # wrong digit
    assert "KD20261125038401965" in near    # missing digit
    assert "KD2026112503840192655" in near  # extra digit
    assert "KD202611250384012965" in near   # swapped neighbours
    assert "KB202611250384019265" in near   # wrong letter
    assert all(OSA.distance(ORDER_NO, n) == 1 for n in near)
    assert len(near) < 1000  # one IN (...) lookup, not a scan


@settings(max_examples=200)
@given(st.text(min_size=3, max_size=80))
def test_a_trigram_query_only_asks_for_pieces_of_the_fragment(fragment):
    query = trigram_query(fragment)
    grams = [g.replace('""', '"') for g in query[1:-1].split('" AND "')]
    assert 1 <= len(grams) <= 4
    assert all(len(g) == 3 and g in fragment for g in grams)
    assert fragment.endswith(grams[-1]) or fragment[-3:] in grams


def test_trigram_query_quotes_fts_syntax():
    assert trigram_query('a"b*c NEAR') == '"a""b" AND "*c " AND "NEA" AND "EAR"'


@pytest.mark.parametrize("value, tail", [
    ("13812345678", "5678"), ("+86 138-1234-5678", "5678"), ("8613812345678", "5678"),
    ("12345678", None), ("abc", None), (None, None), ("5123456789", None),
])
def test_phone_tail_only_for_mobile_numbers(value, tail):
    assert phone_tail(value) == tail


def test_secret_digest_ignores_case_and_separators():
    assert secret_digest("abcd-efgh-1234") == secret_digest("ABCDEFGH1234")
    assert secret_digest("ABCDEFGH1234") != secret_digest("ABCDEFGH1235")


@pytest.mark.parametrize("text, rest, tags", [
    ("tag:vip 尾号1234", "尾号1234", ["vip"]),
    ('tag:"repeat buyer" steam', "steam", ["repeat buyer"]),
    ("标签：加急 话费", "话费", ["加急"]),
    ("hashtag:nope", "hashtag:nope", []),
    ("TAG:a tag:b", "", ["a", "b"]),
])
def test_split_tags(text, rest, tags):
    left, found = split_tags(text)
    assert " ".join(left.split()) == rest
    assert [tag for _, tag in found] == tags


def test_tags_are_normalised_and_bounded():
    assert normalise_tags([" Repeat   Buyer ", "repeat buyer", "VIP"]) == ("repeat buyer", "vip")
    with pytest.raises(InvalidSearch):
        normalise_tags(["x" * 41])
    with pytest.raises(InvalidSearch):
        normalise_tags([f"t{i}" for i in range(11)])


def test_catalogue_cache_rebuilds_when_stale(tmp_path):
    from adapters.sql.store import SqlOrderStore

    store = SqlOrderStore(f"sqlite:///{tmp_path / 'store.db'}")
    store.add_products([Product("STEAM-100", "Steam Wallet 100", "gift_card")])
    cache = CatalogueCache(ttl=3600)
    assert len(cache.get(store)) == 1
    store.add_products([Product("QB-10", "腾讯Q币10元", "game_card")])
    assert len(cache.get(store)) == 1  # fresh enough: no read per search
    cache.invalidate()
    assert len(cache.get(store)) == 2
    store.close()


def test_email_neighbours_hold_one_slip_in_the_local_part_or_the_domain():
    from adapters.sql.retrieval import email_neighbours

    near = set(email_neighbours("zhangsan@qq.con"))
    assert "zhangsan@qq.com" in near                 # the domain slip undone
    assert "zhangsa@qq.con" in near and "zhangsann@qq.con" in near
    assert "zhangsan@qq.com" in set(email_neighbours("zhagnsan@qq.com"))
    assert "zhangsan@163.com" in set(email_neighbours("zhagnsan@163.com"))  # swapped letters
    assert "1814125931@qq.com" in set(email_neighbours("1814125901@qq.com"))
    assert not any("@" not in n or n.count("@") != 1 for n in near)
    assert "zhangsan@qq.con" not in near
    assert len(near) < 2000


@settings(max_examples=200)
@given(st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=8, max_size=12),
       st.integers(min_value=0, max_value=11), st.sampled_from("sub del ins swap".split()))
def test_one_slip_inside_finds_a_piece_with_any_single_slip(piece, at, slip):
    from adapters.sql.retrieval import one_slip_inside

    secret = "XX" + piece + "YY"
    i = at % len(piece)
    if slip == "sub":
        typed = piece[:i] + ("0" if piece[i] != "0" else "1") + piece[i + 1:]
    elif slip == "del":
        typed = piece[:i] + piece[i + 1:]
    elif slip == "ins":
        typed = piece[:i] + "Q" + piece[i:]
    else:
        typed = piece[:i] + piece[i + 1:i + 2] + piece[i] + piece[i + 2:] if i + 1 < len(piece) \
            else piece
    assert one_slip_inside(typed, f"123456 {secret}")


def test_one_slip_inside_refuses_two_slips_and_pieces_spanning_two_keys():
    from adapters.sql.retrieval import one_slip_inside

    assert one_slip_inside("ABCDEFGH", "ZZABCDEFGHZZ")
    assert not one_slip_inside("ABCDXXGH", "ZZABCDEFGHZZ")
    assert not one_slip_inside("EFGH1234", "ABCDEFGH 12345678")  # serial and secret apart


def test_card_key_text_is_letters_and_digits_upper_case():
    from adapters.sql.retrieval import normalise_code

    assert normalise_code("nab4-nq3l gmdz") == "NAB4NQ3LGMDZ"
