"""SequenceCounter: strictly increasing per camera across restarts, crashes included."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from edge.publish import SequenceCounter

REPO_ROOT = Path(__file__).resolve().parents[2]


def draw(state_dir: Path, n: int, block: int, camera: str = "cam-1") -> list[int]:
    with SequenceCounter(state_dir, camera, block=block) as counter:
        return [counter.next() for _ in range(n)]


@pytest.mark.parametrize(
    ("block", "first_run", "second_start"),
    [
        pytest.param(1, 3, 4, id="block-1-no-gap"),
        pytest.param(10, 3, 11, id="skips-rest-of-block"),
        pytest.param(10, 10, 11, id="exactly-one-block"),
        pytest.param(10, 25, 31, id="several-blocks"),
        pytest.param(1000, 0, 1, id="unused-counter-reserves-nothing"),
    ],
)
def test_restart_resumes_above_everything_handed_out(
    tmp_path: Path, block: int, first_run: int, second_start: int
) -> None:
    first = draw(tmp_path, first_run, block)
    assert first == list(range(1, first_run + 1))
    assert draw(tmp_path, 3, block) == [second_start, second_start + 1, second_start + 2]


def test_sigkill_never_repeats_a_seq(tmp_path: Path) -> None:
    # The child prints every seq and is killed before close() can run.
    child = (
        "import os, signal, sys\n"
        "from edge.publish.sequence import SequenceCounter\n"
        f"c = SequenceCounter({str(tmp_path)!r}, 'cam-1', block=50)\n"
        "for _ in range(120): print(c.next(), flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", child], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == -9, done.stderr
    handed_out = [int(line) for line in done.stdout.split()]
    assert handed_out == list(range(1, 121))
    after = draw(tmp_path, 5, block=50)
    assert min(after) > max(handed_out)


def test_counters_of_different_cameras_are_independent(tmp_path: Path) -> None:
    assert draw(tmp_path, 3, 10, "cam-1") == [1, 2, 3]
    assert draw(tmp_path, 2, 10, "cam-2") == [1, 2]


def test_threads_never_share_a_seq(tmp_path: Path) -> None:
    with SequenceCounter(tmp_path, "cam-1", block=7) as counter:
        drawn: list[list[int]] = [[] for _ in range(4)]
        threads = [
            threading.Thread(target=lambda out=out: out.extend(counter.next() for _ in range(250))) for out in drawn
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    values = [v for out in drawn for v in out]
    assert sorted(values) == list(range(1, 1001))
    assert all(out == sorted(out) for out in drawn)


def test_state_is_replaced_atomically(tmp_path: Path) -> None:
    draw(tmp_path, 25, block=10)
    assert json.loads((tmp_path / "cam-1.seq.json").read_text()) == {"camera_id": "cam-1", "high_water": 30}
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b"{not json", "Expecting property name", id="not-json"),
        pytest.param(b"\xc3\x28", "codec can't decode", id="not-utf8"),
        pytest.param(b"[]", "expected a JSON object", id="not-an-object"),
        pytest.param(b'{"camera_id": "cam-9", "high_water": 5}', "belongs to camera 'cam-9'", id="other-camera"),
        pytest.param(b'{"camera_id": "cam-1"}', "high_water must be a non-negative integer, got None", id="missing"),
        pytest.param(b'{"camera_id": "cam-1", "high_water": -1}', "got -1", id="negative"),
        pytest.param(b'{"camera_id": "cam-1", "high_water": 2.5}', "got 2.5", id="float"),
        pytest.param(b'{"camera_id": "cam-1", "high_water": true}', "got True", id="bool"),
    ],
)
def test_corrupt_state_is_an_error_naming_the_file(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "cam-1.seq.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="corrupt sequence state") as info:
        SequenceCounter(tmp_path, "cam-1")
    assert str(path) in str(info.value)
    assert reason in str(info.value)
    # The failed open released its lock: fixing the file is enough.
    path.write_text('{"camera_id": "cam-1", "high_water": 5}')
    assert draw(tmp_path, 1, 10) == [6]


@pytest.mark.parametrize(
    ("camera", "block", "message"),
    [
        pytest.param("", 10, "camera_id '' must match", id="empty-camera"),
        pytest.param("../etc", 10, "must match", id="path-camera"),
        pytest.param("cam 1", 10, "must match", id="space-camera"),
        pytest.param("cam-1", 0, "block must be >= 1, got 0", id="zero-block"),
    ],
)
def test_invalid_arguments(tmp_path: Path, camera: str, block: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SequenceCounter(tmp_path, camera, block=block)


def test_a_second_owner_of_the_same_camera_is_refused(tmp_path: Path) -> None:
    with SequenceCounter(tmp_path, "cam-1"), pytest.raises(RuntimeError, match="already in use by another publisher"):
        SequenceCounter(tmp_path, "cam-1")
    assert draw(tmp_path, 1, 10) == [1]
