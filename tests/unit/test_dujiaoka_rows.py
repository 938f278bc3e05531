"""How dujiaoka's ``info`` text and status codes read (pure: no database)."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from adapters.dujiaoka_rows import Clock, card_key, parse_info, reissue_text, status_of

CLOCK = Clock(ZoneInfo("Asia/Shanghai"))


def test_every_dujiaoka_code_has_a_reference_status():
    assert [status_of(code, 1) for code in (1, 2, 3, 4, 5, 6, -1)] == [
        "pending_payment", "paid", "processing", "delivered", "failed", "after_sales", "expired"]
    assert status_of(4, 2) == "completed"
    assert status_of(9, 1) == "after_sales"  # a code dujiaoka may add later needs a person


def test_key_lines_split_into_serial_and_secret():
    assert (card_key("卡号：A1 密码：B2", "delivered", None).serial,
            card_key("卡号：A1 密码：B2", "delivered", None).secret) == ("A1", "B2")
    assert card_key("X-1-Y----S-2-T", "delivered", None).serial == "X-1-Y"
    assert card_key("A,B", "delivered", None).secret == "B"
    lone = card_key("ONLY-ONE-TOKEN", "delivered", None)
    assert lone.serial == lone.secret == "ONLY-ONE-TOKEN"


def test_a_reissue_mark_replaces_the_keys_above_it():
    info = reissue_text("OLD-1----S1", ["NEW-1----S2"], "2026-12-02 21:40:00")
    assert info == "OLD-1----S1\n=== 补发 / reissued 2026-12-02 21:40:00 ===\nNEW-1----S2"
    keys, events = parse_info(info, CLOCK, None)
    assert [(k.serial, k.status) for k in keys] == [("OLD-1", "reissued"), ("NEW-1", "delivered")]
    assert [(e.kind, e.at) for e in events] == [
        ("reissued", datetime(2026, 12, 2, 13, 40, tzinfo=timezone.utc))]
    assert "NEW-1" in events[0].detail
    assert keys[1].delivered_at == events[0].at


def test_a_first_delivery_writes_just_the_keys():
    assert reissue_text(None, ["A----B", "C----D"], "2026-12-02 21:40:00") == "A----B\nC----D"
    assert reissue_text("  \n", ["A----B"], "x") == "A----B"
    assert parse_info(None, CLOCK, None) == ((), ())


def test_the_clock_reads_and_writes_the_shops_wall_clock():
    utc = datetime(2026, 12, 2, 13, 40, tzinfo=timezone.utc)
    assert CLOCK.write(utc) == datetime(2026, 12, 2, 21, 40)
    assert CLOCK.read(datetime(2026, 12, 2, 21, 40)) == utc
    assert CLOCK.read(None) is None
