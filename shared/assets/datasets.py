"""Sample footage: PETS09-S2L1 as OpenCV's vtest.avi.

Debian's `opencv-doc` package ships the file; `apt-get download` + `dpkg -x` unpack it
without installing anything. The OpenCV sample URL is the fallback where reachable.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from shared.assets.checksum import sha256_of
from shared.assets.download import FetchError, download_verified
from shared.paths import data_dir

VTEST_SHA256 = "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf"
VTEST_IN_DEB = Path("usr/share/doc/opencv-doc/examples/data/vtest.avi")
VTEST_URL = "https://raw.githubusercontent.com/opencv/opencv/4.x/samples/data/vtest.avi"


def vtest_path(directory: Path | None = None) -> Path:
    return (directory or data_dir()) / "vtest.avi"


def _from_debian(dest: Path) -> Path:
    installed = Path("/") / VTEST_IN_DEB
    with tempfile.TemporaryDirectory() as tmp:
        if installed.is_file():
            src = installed
        else:
            subprocess.run(["apt-get", "download", "opencv-doc"], cwd=tmp, check=True, capture_output=True)
            debs = list(Path(tmp).glob("opencv-doc_*.deb"))
            if not debs:
                raise FetchError("apt-get download opencv-doc produced no .deb")
            subprocess.run(["dpkg", "-x", str(debs[0]), str(Path(tmp) / "x")], check=True, capture_output=True)
            src = Path(tmp) / "x" / VTEST_IN_DEB
        if sha256_of(src) != VTEST_SHA256:
            raise FetchError(f"{src} does not have the expected sha256 {VTEST_SHA256}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    return dest


def fetch_vtest(directory: Path | None = None) -> Path:
    """Make sure vtest.avi is present and intact; return its path."""
    dest = vtest_path(directory)
    if dest.is_file() and sha256_of(dest) == VTEST_SHA256:
        return dest
    errors = []
    try:
        return _from_debian(dest)
    except (OSError, subprocess.CalledProcessError, FetchError) as exc:
        errors.append(f"Debian opencv-doc: {exc}")
    try:
        return download_verified(VTEST_URL, dest, VTEST_SHA256)
    except FetchError as exc:
        errors.append(str(exc))
    raise FetchError("could not obtain vtest.avi:\n  " + "\n  ".join(errors))
