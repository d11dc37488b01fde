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
    """A dedicated single-node broker (deploy/local/kafka.sh on its own ports) that tests may stop and start.

    The integration tests share the default ports; a long-running command (the fault soak)
    takes others, so that a test run beside it cannot stop its broker or it theirs.
    """

    def __init__(self, port: int = OUTAGE_KAFKA_PORT, controller_port: int = OUTAGE_KAFKA_CONTROLLER_PORT) -> None:
        self.port = port
        self.controller_port = controller_port
        self.bootstrap = f"127.0.0.1:{port}"

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
            "MALLFLOW_KAFKA_PORT": str(self.port),
            "MALLFLOW_KAFKA_CONTROLLER_PORT": str(self.controller_port),
        }
        done = subprocess.run(["bash", str(KAFKA_SCRIPT), action], env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            pytest.fail(f"{KAFKA_SCRIPT} {action} (port {self.port}) failed:\n{done.stderr[-3000:]}")
