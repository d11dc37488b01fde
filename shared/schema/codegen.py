"""Regenerate the Python bindings of proto/ (`mallflow schema gen`).

The output is committed; tests/unit/test_schema_codegen.py regenerates into a
temporary folder and fails if the committed files differ (stale codegen).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = REPO_ROOT / "proto"
PROTO_FILES = ("mallflow/v1/events.proto",)
BINDINGS_DIR = Path(__file__).resolve().parent / "v1"
BASELINE = PROTO_ROOT / "compat" / "mallflow_v1.binpb"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi")


def _protoc(args: list[str]) -> None:
    cmd = [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_ROOT}", *args, *PROTO_FILES]
    result = subprocess.run(cmd, cwd=PROTO_ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"protoc failed ({' '.join(cmd)}):\n{result.stderr}")


def generate(out_dir: Path) -> list[Path]:
    """Write the bindings for every proto file into out_dir; return the files written."""
    with tempfile.TemporaryDirectory() as tmp:
        _protoc([f"--python_out={tmp}", f"--pyi_out={tmp}"])
        written = []
        out_dir.mkdir(parents=True, exist_ok=True)
        for proto in PROTO_FILES:
            stem = Path(proto).with_suffix("")
            for suffix in GENERATED_SUFFIXES:
                src = Path(tmp) / f"{stem}{suffix}"
                dst = out_dir / src.name
                shutil.copyfile(src, dst)
                written.append(dst)
        return written


def descriptor_set_bytes() -> bytes:
    """Serialized FileDescriptorSet of the current proto files (for compatibility checks)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.binpb"
        _protoc([f"--descriptor_set_out={out}"])
        return out.read_bytes()


def write_baseline() -> Path:
    """Record the current schema as the released baseline the next change must stay compatible with."""
    BASELINE.parent.mkdir(parents=True, exist_ok=True)
    BASELINE.write_bytes(descriptor_set_bytes())
    return BASELINE


def stale_files() -> list[str]:
    """Names of committed binding files that differ from a fresh generation."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        stale = []
        for path in fresh:
            committed = BINDINGS_DIR / path.name
            if not committed.exists() or committed.read_bytes() != path.read_bytes():
                stale.append(str(committed.relative_to(REPO_ROOT)))
        return stale
