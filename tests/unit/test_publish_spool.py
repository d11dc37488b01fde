"""DiskSpool: FIFO across segments and restarts, bounded by dropping the oldest, torn tails survived."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from edge.publish import DiskSpool

HEADER = 8  # length + CRC-32
SEGMENT = 1024


def records(start: int, stop: int, size: int = 92) -> list[bytes]:
    """Distinct records of `size` bytes (100 on disk with the header)."""
    return [f"{i:08d}".encode().ljust(size, b".") for i in range(start, stop)]


def spool(directory: Path, max_bytes: int = 16 * SEGMENT) -> DiskSpool:
    return DiskSpool(directory, max_bytes=max_bytes, segment_bytes=SEGMENT)


def drain(s: DiskSpool, batch: int = 7) -> list[bytes]:
    out: list[bytes] = []
    while True:
        got = s.peek(batch)
        if not got.records:
            return out
        out += got.records
        s.ack(got.end)


def segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.seg"))


@pytest.mark.parametrize("batch", [1, 3, 10, 1000])
def test_records_come_back_in_order_across_segments(tmp_path: Path, batch: int) -> None:
    with spool(tmp_path) as s:
        s.extend(records(0, 25))
        s.extend(records(25, 50))
        assert len(segments(tmp_path)) == 5  # 10 records of 100 bytes per 1 KiB segment
        assert s.stats.records == 50
        assert drain(s, batch) == records(0, 50)
        assert s.stats.records == 0


def test_peek_does_not_consume(tmp_path: Path) -> None:
    with spool(tmp_path) as s:
        s.extend(records(0, 5))
        assert s.peek(3).records == s.peek(3).records == records(0, 3)
        assert s.stats.records == 5


def test_fully_acknowledged_spool_leaves_no_files(tmp_path: Path) -> None:
    with spool(tmp_path) as s:
        s.extend(records(0, 25))
        drain(s)
        assert s.stats.bytes == 0
        s.extend(records(25, 27))
        assert drain(s) == records(25, 27)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spool.lock"]


@pytest.mark.parametrize(
    ("acked", "appended_after"),
    [
        pytest.param(0, 0, id="nothing-acked"),
        pytest.param(4, 0, id="mid-segment"),
        pytest.param(10, 0, id="segment-boundary"),
        pytest.param(23, 5, id="then-appended"),
    ],
)
def test_restart_continues_after_the_acknowledged_records(tmp_path: Path, acked: int, appended_after: int) -> None:
    with spool(tmp_path) as s:
        s.extend(records(0, 30))
        if acked:
            s.ack(s.peek(acked).end)
    with spool(tmp_path) as s:
        assert s.stats.records == 30 - acked
        s.extend(records(30, 30 + appended_after))
    with spool(tmp_path) as s:
        assert drain(s) == records(acked, 30 + appended_after)


def test_acknowledging_the_past_is_harmless(tmp_path: Path) -> None:
    with spool(tmp_path) as s:
        s.extend(records(0, 20))
        early = s.peek(3).end
        s.ack(s.peek(5).end)
        s.ack(early)
        assert s.peek(1).records == records(5, 6)


def test_bound_drops_the_oldest_segment_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with spool(tmp_path, max_bytes=3 * SEGMENT) as s, caplog.at_level(logging.WARNING):
        s.extend(records(0, 30))  # fills 3 segments exactly
        assert not caplog.records
        s.extend(records(30, 31))
        assert s.stats.dropped == 10
        assert s.stats.bytes <= 3 * SEGMENT
        assert drain(s) == records(10, 31)
    [warning] = caplog.records
    assert warning.levelno == logging.WARNING
    assert "dropped the 10 oldest unsent events (1000 bytes)" in warning.getMessage()
    assert "is full" in warning.getMessage()


def test_bound_counts_only_unacknowledged_records_as_dropped(tmp_path: Path) -> None:
    with spool(tmp_path, max_bytes=2 * SEGMENT) as s:
        s.extend(records(0, 20))
        s.ack(s.peek(4).end)
        s.extend(records(20, 21))
        assert s.stats.dropped == 6
        assert drain(s) == records(10, 21)


def test_bound_holds_over_a_long_outage(tmp_path: Path) -> None:
    with spool(tmp_path, max_bytes=4 * SEGMENT) as s:
        for start in range(0, 1000, 10):
            s.extend(records(start, start + 10))
        assert s.stats.bytes <= 4 * SEGMENT
        kept = drain(s)
        assert kept == records(1000 - len(kept), 1000)
        assert s.stats.dropped == 1000 - len(kept)


@pytest.mark.parametrize(
    ("tail", "discarded"),
    [
        pytest.param(b"\x00\x00", 2, id="partial-header"),
        pytest.param(b"\x00\x00\x00\x5c\x00\x00\x00\x00" + b"x" * 40, 48, id="partial-payload"),
        pytest.param(b"\x00\x00\x00\x02\xde\xad\xbe\xefab", 10, id="bad-crc"),
    ],
)
def test_torn_tail_is_cut_off_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, tail: bytes, discarded: int
) -> None:
    with spool(tmp_path) as s:
        s.extend(records(0, 5))
    [last] = segments(tmp_path)
    with last.open("ab") as f:
        f.write(tail)
    with caplog.at_level(logging.WARNING), spool(tmp_path) as s:
        assert s.stats.records == 5
        s.extend(records(5, 7))
        assert drain(s) == records(0, 7)
    [warning] = caplog.records
    assert f"discarded {discarded} bytes after byte 500" in warning.getMessage()
    assert str(last) in warning.getMessage()


def test_unreadable_cursor_replays_from_the_oldest_record(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with spool(tmp_path) as s:
        s.extend(records(0, 5))
        s.ack(s.peek(2).end)
    (tmp_path / "cursor.json").write_text("{oops")
    with caplog.at_level(logging.WARNING), spool(tmp_path) as s:
        # Duplicates (consumers drop them) rather than loss.
        assert drain(s) == records(0, 5)
    assert "ignoring unreadable" in caplog.text


def test_cursor_is_a_small_json_file(tmp_path: Path) -> None:
    with spool(tmp_path) as s:
        s.extend(records(0, 15))
        s.ack(s.peek(12).end)
    assert json.loads((tmp_path / "cursor.json").read_text()) == {"segment": 2, "record": 2}


def test_a_second_process_cannot_open_the_same_spool(tmp_path: Path) -> None:
    with spool(tmp_path), pytest.raises(RuntimeError, match="already in use by another publisher"):
        spool(tmp_path)


def test_closed_spool_refuses_work(tmp_path: Path) -> None:
    s = spool(tmp_path)
    s.close()
    with pytest.raises(RuntimeError, match="is closed"):
        s.extend(records(0, 1))


@pytest.mark.parametrize(
    ("max_bytes", "segment_bytes", "message"),
    [
        pytest.param(1000, 1000, r"max_bytes \(1000\) must be at least 2 x segment_bytes", id="bound-too-small"),
        pytest.param(1000, HEADER, "segment_bytes must exceed the 8-byte record header", id="tiny-segment"),
    ],
)
def test_invalid_bounds(tmp_path: Path, max_bytes: int, segment_bytes: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DiskSpool(tmp_path, max_bytes=max_bytes, segment_bytes=segment_bytes)


def test_record_larger_than_a_segment_is_rejected_whole(tmp_path: Path) -> None:
    with spool(tmp_path) as s:
        with pytest.raises(ValueError, match="1017-byte record does not fit a 1024-byte segment"):
            s.extend([b"ok", b"x" * 1017])
        assert s.stats.records == 0
        with pytest.raises(ValueError, match="max_records must be >= 1"):
            s.peek(0)
