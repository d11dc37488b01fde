"""The console command is installed and lists its subcommands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

VENV_BIN = Path(sys.executable).parent


@pytest.mark.parametrize("subcommand", ["config", "models", "data", "schema", "topics", "db", "calibrate"])
def test_help_lists_subcommand(subcommand: str) -> None:
    out = subprocess.run([str(VENV_BIN / "mallflow"), "--help"], capture_output=True, text=True, check=True).stdout
    assert subcommand in out


def test_models_verify_passes_with_provided_models() -> None:
    result = subprocess.run([str(VENV_BIN / "mallflow"), "models", "verify"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
