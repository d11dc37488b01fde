"""sd_notify(3) for systemd's Type=notify and WatchdogSec: ready once, alive while the loop runs.

A plain datagram to $NOTIFY_SOCKET, as the protocol specifies; without that variable (not
under systemd) every call does nothing. An abstract socket name starts with '@'.
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger(__name__)


class SystemdNotifier:
    def __init__(self, socket_path: str | None, interval_s: float = 5.0) -> None:
        self.address = "\0" + socket_path[1:] if socket_path and socket_path.startswith("@") else socket_path
        self.interval_s = interval_s
        self._last_alive = float("-inf")

    @classmethod
    def from_env(cls) -> SystemdNotifier:
        # systemd asks for a ping at least every WATCHDOG_USEC; a third of it leaves slack.
        usec = os.environ.get("WATCHDOG_USEC", "")
        interval = int(usec) / 1e6 / 3 if usec.isdigit() and int(usec) > 0 else 5.0
        return cls(os.environ.get("NOTIFY_SOCKET"), interval)

    def _send(self, message: str) -> None:
        if not self.address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(message.encode(), self.address)
        except OSError as exc:
            # A watchdog that cannot be reached must not take the cameras down with it.
            log.warning("sd_notify %r to %s failed: %s", message, self.address, exc)

    def ready(self) -> None:
        self._send("READY=1")

    def alive(self) -> None:
        """WATCHDOG=1, at most once per interval however often it is called."""
        now = time.monotonic()
        if now - self._last_alive >= self.interval_s:
            self._last_alive = now
            self._send("WATCHDOG=1")

    def stopping(self) -> None:
        self._send("STOPPING=1")
