"""A bounded on-disk FIFO of serialized envelopes that the broker has not acknowledged yet.

Records are appended to numbered segment files as [length u32][CRC-32 u32][payload]
(big-endian); `cursor.json` remembers how far the head has been acknowledged, and fully
consumed segments are deleted. The CRC lets a reopen tell a record torn by a crash from
a good one. When the bound is reached the oldest segment goes: recent events matter more
to live occupancy, and the edge must never fill its disk.
"""

from __future__ import annotations

import json
import logging
import os
import re
import struct
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from edge.publish.files import ExclusiveLock, fsync_directory, write_atomically

log = logging.getLogger(__name__)

_HEADER = struct.Struct(">II")
_SEGMENT_NAME = re.compile(r"^\d{12}\.seg$")
_CURSOR = "cursor.json"


@dataclass(frozen=True, order=True)
class SpoolPosition:
    """A place between records: segment index, record number within it, byte offset."""

    segment: int
    record: int
    offset: int


@dataclass(frozen=True)
class SpoolBatch:
    records: list[bytes]
    # Acknowledge with this once every record of the batch is delivered.
    end: SpoolPosition


@dataclass(frozen=True)
class SpoolStats:
    # Waiting to be replayed.
    records: int
    # On disk, what max_bytes bounds.
    bytes: int
    # Unsent records discarded to stay within max_bytes since this spool was opened.
    dropped: int


@dataclass
class _Segment:
    index: int
    path: Path
    size: int
    records: int


class DiskSpool:
    """Append, read from the head, acknowledge; survives restarts and crashes of the process.

    Thread-safe. One process at a time: a lock file makes a second opener fail clearly.
    Appends reach the OS before extend() returns (they survive the process being
    killed); sync() also makes them survive a power cut.
    """

    def __init__(self, directory: Path | str, max_bytes: int, segment_bytes: int = 8 * 1024 * 1024) -> None:
        if segment_bytes <= _HEADER.size:
            raise ValueError(f"segment_bytes must exceed the {_HEADER.size}-byte record header, got {segment_bytes}")
        if max_bytes < 2 * segment_bytes:
            raise ValueError(
                f"max_bytes ({max_bytes}) must be at least 2 x segment_bytes ({segment_bytes}): dropping the "
                "oldest segment has to leave room next to the one being written"
            )
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self._lock_file = ExclusiveLock(self.directory / "spool.lock", f"spool directory {self.directory}")
        self._mutex = threading.Lock()
        self._writer: BinaryIO | None = None
        self._dropped = 0
        self._closed = False
        self._segments: list[_Segment] = []
        self._next_index = 1
        self._head = SpoolPosition(1, 0, 0)
        try:
            self._open_state()
        except BaseException:
            self._lock_file.release()
            raise

    @property
    def stats(self) -> SpoolStats:
        with self._mutex:
            return SpoolStats(records=self._pending(), bytes=self._bytes(), dropped=self._dropped)

    def extend(self, records: Iterable[bytes]) -> None:
        """Append in order, dropping the oldest segments first if the bound would be exceeded."""
        batch = list(records)
        for record in batch:
            if _HEADER.size + len(record) > self.segment_bytes:
                raise ValueError(f"a {len(record)}-byte record does not fit a {self.segment_bytes}-byte segment")
        lost_records = freed_bytes = 0
        with self._mutex:
            self._check_open()
            for record in batch:
                size = _HEADER.size + len(record)
                active, writer = self._segment_for(size)
                # Never the active segment: the bound leaves room for two.
                while self._bytes() + size > self.max_bytes and len(self._segments) > 1:
                    lost, freed = self._drop_oldest()
                    lost_records += lost
                    freed_bytes += freed
                writer.write(_HEADER.pack(len(record), zlib.crc32(record)) + record)
                active.size += size
                active.records += 1
            if self._writer is not None:
                self._writer.flush()
        if lost_records:
            log.warning(
                "spool %s is full (max %d bytes): dropped the %d oldest unsent events (%d bytes) to make room; "
                "the broker has been unreachable for too long or spool_max_bytes is too small",
                self.directory,
                self.max_bytes,
                lost_records,
                freed_bytes,
            )

    def peek(self, max_records: int) -> SpoolBatch:
        """Up to max_records from the head, oldest first, without removing them."""
        if max_records < 1:
            raise ValueError(f"max_records must be >= 1, got {max_records}")
        out: list[bytes] = []
        with self._mutex:
            self._check_open()
            pos = self._head
            for seg in self._segments:
                if len(out) >= max_records:
                    break
                record, offset = (pos.record, pos.offset) if seg.index == pos.segment else (0, 0)
                with open(seg.path, "rb") as f:
                    f.seek(offset)
                    while record < seg.records and len(out) < max_records:
                        length, _ = _HEADER.unpack(f.read(_HEADER.size))
                        out.append(f.read(length))
                        offset += _HEADER.size + length
                        record += 1
                pos = SpoolPosition(seg.index, record, offset)
        return SpoolBatch(out, pos)

    def ack(self, end: SpoolPosition) -> None:
        """Everything before `end` was delivered: forget it, on disk too."""
        with self._mutex:
            self._check_open()
            # Behind the head when the bound dropped those records meanwhile.
            if end <= self._head:
                return
            self._head = end
            self._release_consumed()
            cursor = self.directory / _CURSOR
            if self._segments:
                write_atomically(cursor, json.dumps({"segment": end.segment, "record": end.record}).encode())
            else:
                cursor.unlink(missing_ok=True)

    def sync(self) -> None:
        """Make every appended record survive a power cut."""
        with self._mutex:
            if self._writer is not None:
                self._writer.flush()
                os.fsync(self._writer.fileno())
            fsync_directory(self.directory)

    def close(self) -> None:
        with self._mutex:
            if self._closed:
                return
            if self._writer is not None:
                self._writer.flush()
                os.fsync(self._writer.fileno())
                self._writer.close()
                self._writer = None
            self._closed = True
            self._lock_file.release()

    def __enter__(self) -> DiskSpool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"spool {self.directory} is closed")

    def _open_state(self) -> None:
        cursor = self._read_cursor()
        head: SpoolPosition | None = None
        for path in sorted(p for p in self.directory.iterdir() if _SEGMENT_NAME.match(p.name)):
            offsets, size = _scan(path)
            if not offsets:
                path.unlink()
                continue
            seg = _Segment(int(path.stem), path, size, len(offsets))
            self._segments.append(seg)
            if cursor is not None and cursor[0] == seg.index and cursor[1] <= seg.records:
                offset = offsets[cursor[1]] if cursor[1] < seg.records else size
                head = SpoolPosition(seg.index, cursor[1], offset)
        self._next_index = self._segments[-1].index + 1 if self._segments else 1
        if head is None:
            # A cursor behind the oldest segment is normal (that segment was dropped or consumed).
            if cursor is not None and self._segments and cursor[0] >= self._segments[0].index:
                log.warning(
                    "spool %s: cursor %s does not match the segments; replaying from the oldest record "
                    "(consumers drop the duplicates)",
                    self.directory,
                    cursor,
                )
            head = self._start()
        self._head = head
        self._release_consumed()

    def _read_cursor(self) -> tuple[int, int] | None:
        path = self.directory / _CURSOR
        if not path.exists():
            return None
        try:
            state = json.loads(path.read_bytes())
            segment, record = state["segment"], state["record"]
            if type(segment) is not int or type(record) is not int or segment < 1 or record < 0:
                raise ValueError(f"bad values {state}")
        except (ValueError, TypeError, KeyError) as exc:
            # Losing the cursor costs duplicates, which consumers drop; losing the spool would cost events.
            log.warning(
                "spool %s: ignoring unreadable %s (%s); replaying from the oldest record", path.parent, path, exc
            )
            return None
        return segment, record

    def _start(self) -> SpoolPosition:
        return SpoolPosition(self._segments[0].index if self._segments else self._next_index, 0, 0)

    def _segment_for(self, size: int) -> tuple[_Segment, BinaryIO]:
        """The segment to append `size` bytes to and its writer, rolling over when it is full."""
        if self._segments and self._segments[-1].size + size <= self.segment_bytes:
            active = self._segments[-1]
            if self._writer is None:
                self._writer = open(active.path, "ab")  # noqa: SIM115 - kept open across appends
            return active, self._writer
        if self._writer is not None:
            # A finished segment is never written again: make it durable once, now.
            self._writer.flush()
            os.fsync(self._writer.fileno())
            self._writer.close()
        seg = _Segment(self._next_index, self.directory / f"{self._next_index:012d}.seg", 0, 0)
        self._next_index += 1
        self._segments.append(seg)
        self._writer = open(seg.path, "ab")  # noqa: SIM115 - kept open across appends
        return seg, self._writer

    def _drop_oldest(self) -> tuple[int, int]:
        seg = self._segments.pop(0)
        consumed = self._head.record if self._head.segment == seg.index else 0
        seg.path.unlink()
        self._head = self._start()
        self._dropped += seg.records - consumed
        return seg.records - consumed, seg.size

    def _release_consumed(self) -> None:
        while self._segments:
            first = self._segments[0]
            if first.index > self._head.segment or (
                first.index == self._head.segment and self._head.record < first.records
            ):
                return
            if first is self._segments[-1] and self._writer is not None:
                self._writer.close()
                self._writer = None
            first.path.unlink()
            self._segments.pop(0)
            if first.index == self._head.segment:  # the head was at its end
                self._head = self._start()

    def _pending(self) -> int:
        total = sum(seg.records for seg in self._segments)
        if self._segments and self._segments[0].index == self._head.segment:
            total -= self._head.record
        return total

    def _bytes(self) -> int:
        return sum(seg.size for seg in self._segments)


def _scan(path: Path) -> tuple[list[int], int]:
    """Offsets of the intact records and the end of the last one; cuts off a torn or corrupt tail."""
    data = memoryview(path.read_bytes())
    offsets: list[int] = []
    pos = 0
    while pos + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, pos)
        end = pos + _HEADER.size + length
        if end > len(data) or zlib.crc32(data[pos + _HEADER.size : end]) != crc:
            break
        offsets.append(pos)
        pos = end
    if pos < len(data):
        log.warning(
            "spool segment %s: discarded %d bytes after byte %d, a record torn by a crash mid-write "
            "(its event never finished reaching the spool)",
            path,
            len(data) - pos,
            pos,
        )
        os.truncate(path, pos)
    return offsets, pos
