"""Pure chat rules: signed identities, widget tokens, flood control, file sniffing, metrics."""
from __future__ import annotations

import hashlib
import hmac

import pytest

from console.chat.identity import (
    MAX_SKEW_SECONDS,
    IdentityError,
    canonical,
    issue_widget_token,
    read_widget_token,
    sign_identity,
    verify_identity,
)
from console.chat.limits import TokenBucket
from console.chat.uploads import sniff_image
from console.supervisor.stats import percentile, summarise

NOW = 1_800_000_000


def test_canonical_text_is_the_documented_one():
    assert canonical("u1", "a@b.c", None, 12) == "u1\na@b.c\n\n12"
    expected = hmac.new(b"s", b"u1\na@b.c\n\n12", hashlib.sha256).hexdigest()
    assert sign_identity("s", "u1", "a@b.c", None, 12) == expected


def test_a_good_signature_gives_the_identity():
    payload = {"user_id": "u1", "email": "A@B.C", "phone": None, "ts": NOW,
               "signature": sign_identity("s", "u1", "A@B.C", None, NOW).upper()}
    identity = verify_identity("s", payload, NOW + MAX_SKEW_SECONDS)
    assert (identity.user_id, identity.email, identity.phone) == ("u1", "a@b.c", None)


@pytest.mark.parametrize("secret, payload, now, code", [
    (None, {"ts": NOW, "signature": "x"}, NOW, "identity_not_configured"),
    ("s", {"ts": "soon", "signature": "x"}, NOW, "invalid_signature"),
    ("s", {"user_id": "u1", "ts": NOW, "signature": sign_identity("s", "u2", ts=NOW)}, NOW,
     "invalid_signature"),
    ("s", {"user_id": "u1", "ts": NOW, "signature": sign_identity("s", "u1", ts=NOW)},
     NOW + MAX_SKEW_SECONDS + 1, "stale_signature"),
])
def test_bad_identities_are_refused(secret, payload, now, code):
    with pytest.raises(IdentityError) as refused:
        verify_identity(secret, payload, now)
    assert refused.value.code == code


def test_widget_tokens_round_trip_and_resist_forgery():
    token = issue_widget_token("key", 42, "customer-key")
    assert read_widget_token("key", token) == (42, "customer-key")
    assert read_widget_token("other-key", token) is None
    assert read_widget_token("key", token[:-3] + "abc") is None
    assert read_widget_token("key", "not a token") is None


def test_token_bucket_allows_a_burst_then_the_rate():
    bucket = TokenBucket(capacity=3, rate=1.0)
    assert [bucket.take(100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = bucket.take(100.0)
    assert wait == pytest.approx(1.0)
    assert bucket.take(100.5) == pytest.approx(0.5)
    assert bucket.take(101.0) == 0.0
    assert bucket.take(200.0) == 0.0  # refilled, never beyond capacity
    assert [bucket.take(200.0) for _ in range(3)][-1] > 0


@pytest.mark.parametrize("head, expected", [
    (b"\x89PNG\r\n\x1a\n....", "image/png"),
    (b"\xff\xd8\xff\xe0..JFIF", "image/jpeg"),
    (b"GIF89a......", "image/gif"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"<svg xmlns=", None),
    (b"<!doctype html>", None),
    (b"%PDF-1.7", None),
    (b"RIFF\x10\x00\x00\x00WAVEfmt ", None),
])
def test_images_are_recognised_by_their_bytes(head, expected):
    kind = sniff_image(head)
    assert (kind[0] if kind else None) == expected


def test_percentiles_interpolate_between_ranks():
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile(list(range(1, 11)), 0.9) == 9.1
    assert summarise([30, 10, 20]) == {"count": 3, "median": 20.0, "p90": 28.0}


def test_business_hours_count_only_opening_time():
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    import pytest

    from console.supervisor.sla import parse_business_hours
    zone = ZoneInfo("Asia/Shanghai")
    hours = parse_business_hours("mon-fri 09:00-18:00", zone)
    friday_evening = datetime(2026, 11, 20, 17, 30, tzinfo=zone)
    monday_morning = datetime(2026, 11, 23, 9, 15, tzinfo=zone)
    assert hours.elapsed(friday_evening, monday_morning) == 45 * 60
    assert hours.elapsed(monday_morning, friday_evening) == 0
    night = parse_business_hours("20:00-02:00", zone)
    assert night.elapsed(datetime(2026, 11, 20, 19, 0, tzinfo=zone),
                         datetime(2026, 11, 21, 1, 0, tzinfo=zone)) == 5 * 3600
    assert parse_business_hours("", zone) is None
    with pytest.raises(ValueError, match="09:00-21:00"):
        parse_business_hours("nine to five", zone)
    assert night.elapsed(datetime(2026, 11, 21, 1, 0, tzinfo=zone),
                         datetime(2026, 11, 21, 3, 0, tzinfo=timezone.utc)) == 3600


def test_recent_answers_expire_and_are_kept_per_key(monkeypatch):
    from console.supervisor import recent
    clock = [100.0]
    monkeypatch.setattr(recent.time, "monotonic", lambda: clock[0])
    memory = recent.Recent(15.0, entries=2)
    calls = []

    def compute(value):
        return lambda: calls.append(value) or value

    assert memory.get("a", compute(1)) == 1 and memory.get("a", compute(2)) == 1
    assert memory.get("b", compute(3)) == 3
    clock[0] += 15.1
    assert memory.get("a", compute(4)) == 4
    assert calls == [1, 3, 4]
