"""Crash-safe small-file replacement and single-owner locks for the publisher's state."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data`; after a crash or power cut it holds the old or the new bytes, never a mix."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    # The rename itself lives in the directory; without this a power cut can undo it.
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ExclusiveLock:
    """An advisory lock held while the owner lives.

    flock is tied to the open file, so the kernel releases it when the process dies,
    even by SIGKILL: a crashed agent never leaves a stale lock behind.
    """

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        file = open(path, "a+b")  # noqa: SIM115 - held open until release()
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            owner = file.read().decode(errors="replace").strip() or "unknown"
            file.close()
            raise RuntimeError(
                f"{what} is already in use by another publisher (pid {owner}, lock file {path}); "
                "two writers would corrupt it"
            ) from None
        file.truncate(0)
        file.write(str(os.getpid()).encode())
        file.flush()
        self._file: BinaryIO | None = file

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
