"""A dedicated Kafka broker that fault tests stop and start (the shared one on 9092 is never touched)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

KAFKA_SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "local" / "kafka.sh"
OUTAGE_KAFKA_PORT = 9094
OUTAGE_KAFKA_CONTROLLER_PORT = 19094


class OutageBroker:
    """A dedicated single-node broker (deploy/local/kafka.sh on its own ports) that tests may stop and start."""

    bootstrap = f"127.0.0.1:{OUTAGE_KAFKA_PORT}"

    def start(self) -> None:
        self._script("start")

    def stop(self) -> None:
        self._script("stop")

    def reset(self) -> None:
        """Stop and delete its data."""
        self._script("reset")

    def _script(self, action: str) -> None:
        env = {
            **os.environ,
            "MALLFLOW_KAFKA_PORT": str(OUTAGE_KAFKA_PORT),
            "MALLFLOW_KAFKA_CONTROLLER_PORT": str(OUTAGE_KAFKA_CONTROLLER_PORT),
        }
        done = subprocess.run(["bash", str(KAFKA_SCRIPT), action], env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            pytest.fail(f"{KAFKA_SCRIPT} {action} (port {OUTAGE_KAFKA_PORT}) failed:\n{done.stderr[-3000:]}")
