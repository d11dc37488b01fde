"""API keys with a read-only and an admin role.

Keys come from the environment (MALLFLOW_API_KEYS) or a file, one `role:key` per entry;
a key may be given as `role:sha256:HEX` so the file holds no secret. Presented keys are
hashed and compared with every configured digest in constant time (hmac.compare_digest),
so neither a match nor its position leaks through timing.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

ENV_VAR = "MALLFLOW_API_KEYS"
MIN_KEY_LENGTH = 16


class Role(StrEnum):
    READ = "read"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        return self is Role.ADMIN or needed is Role.READ


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


@dataclass(frozen=True)
class KeyRing:
    entries: tuple[tuple[bytes, Role], ...] = ()

    @classmethod
    def parse(cls, text: str, where: str = ENV_VAR) -> KeyRing:
        """Entries separated by commas or newlines; blank lines and #-comments are skipped."""
        entries: list[tuple[bytes, Role]] = []
        items = [part.strip() for line in text.splitlines() for part in line.split("#", 1)[0].split(",")]
        for n, item in enumerate(i for i in items if i):
            role_name, sep, secret = item.partition(":")
            if not sep or not secret:
                raise ValueError(f"{where}: entry {n + 1} must be ROLE:KEY (roles: read, admin), got {item[:8]!r}…")
            try:
                role = Role(role_name.strip())
            except ValueError:
                raise ValueError(
                    f"{where}: entry {n + 1} has unknown role {role_name!r} (roles: read, admin)"
                ) from None
            if secret.startswith("sha256:"):
                try:
                    digest = bytes.fromhex(secret.removeprefix("sha256:"))
                except ValueError:
                    raise ValueError(f"{where}: entry {n + 1}: sha256 digest is not hex") from None
                if len(digest) != 32:
                    raise ValueError(f"{where}: entry {n + 1}: sha256 digest must be 64 hex digits")
            elif len(secret) < MIN_KEY_LENGTH:
                raise ValueError(f"{where}: entry {n + 1}: keys must be at least {MIN_KEY_LENGTH} characters")
            else:
                digest = _digest(secret)
            entries.append((digest, role))
        return cls(tuple(entries))

    @classmethod
    def load(cls, env_value: str | None, file: Path | None) -> KeyRing:
        ring = cls.parse(env_value) if env_value else cls()
        if file is not None:
            ring = KeyRing(ring.entries + cls.parse(file.read_text(), str(file)).entries)
        return ring

    def __bool__(self) -> bool:
        return bool(self.entries)

    def role_of(self, presented: str) -> Role | None:
        digest = _digest(presented)
        found: Role | None = None
        # No early exit: every entry is compared whatever matched before.
        for stored, role in self.entries:
            if hmac.compare_digest(stored, digest) and (found is None or role is Role.ADMIN):
                found = role
        return found
