"""Download a URL to a file atomically, checking its sha256."""

from __future__ import annotations

import os
import tempfile
import urllib.request
from pathlib import Path

from shared.assets.checksum import sha256_of


class FetchError(RuntimeError):
    pass


def download_verified(url: str, dest: Path, sha256: str, timeout_s: float = 60.0) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout_s) as resp:
            while block := resp.read(1 << 20):
                out.write(block)
        got = sha256_of(tmp)
        if got != sha256:
            raise FetchError(f"{url}: sha256 {got} does not match the expected {sha256}; not installed")
        tmp.replace(dest)
        return dest
    except OSError as exc:
        raise FetchError(f"cannot download {url}: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
