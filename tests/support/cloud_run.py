"""`mallflow cloud run` as a subprocess, the way a supervisor (systemd, Kubernetes) starts it."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from shared.config import SiteConfig


def write_site_yaml(site: SiteConfig, path: Path) -> Path:
    path.write_text(yaml.safe_dump(site.model_dump(mode="json")))
    return path


def cloud_run_command(
    configs: Sequence[Path],
    bootstrap: str,
    db: str,
    topic: str,
    group: str,
    *,
    max_batch: int,
    idle_exit_s: float,
    session_timeout_ms: int = 6000,
) -> list[str]:
    """The consumer with its metrics endpoint off; session_timeout_ms defaults to the broker's floor,
    so that the group hands a killed member's partitions on as soon as it can."""
    sites = [arg for config in configs for arg in ("--config", str(config))]
    return [
        sys.executable,
        "-m",
        "shared.cli.main",
        "cloud",
        "run",
        *sites,
        "--bootstrap",
        bootstrap,
        "--db",
        db,
        "--topic",
        topic,
        "--group",
        group,
        "--max-batch",
        str(max_batch),
        "--metrics-port",
        "0",
        "--idle-exit",
        f"{idle_exit_s:g}",
        "--session-timeout-ms",
        str(session_timeout_ms),
    ]
