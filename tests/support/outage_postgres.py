"""A dedicated PostgreSQL cluster that fault commands stop and start (the shared one on 5433 is never touched)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

POSTGRES_SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "local" / "postgres.sh"


class OutagePostgres:
    """deploy/local/postgres.sh with its own cluster name and port: restarting it disturbs no one else."""

    def __init__(self, cluster: str, port: int) -> None:
        self.cluster = cluster
        self.port = port
        self.url = f"postgresql+psycopg://mallflow:mallflow@127.0.0.1:{port}/mallflow"

    def start(self) -> None:
        self._script("start")

    def stop(self) -> None:
        self._script("stop")

    def _script(self, action: str) -> None:
        env = {**os.environ, "MALLFLOW_PG_PORT": str(self.port), "MALLFLOW_PG_CLUSTER": self.cluster}
        done = subprocess.run(
            ["bash", str(POSTGRES_SCRIPT), action], env=env, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"{POSTGRES_SCRIPT} {action} (cluster {self.cluster}) failed:\n{done.stderr[-3000:]}")
