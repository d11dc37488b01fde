"""How the edge reads a live camera: RTSP transport, credentials, jitter buffer, stall timeout.

Credentials belong in `username` / `password`, given as ${VARS} the loader expands from the
agent's environment (/etc/mallflow/edge.env), rather than in the YAML or the URL; either
way they are never logged, published or shown (`redact_uri`, `SecretStr`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

# scheme:// up to the last '@' of the whole URI, not just of the authority: a password with
# an unescaped '@' or '/' in it ("admin:p@s/s@cam") is still masked whole. A path that holds
# an '@' loses its head in logs, a price worth the password never showing.
_USERINFO = re.compile(r"^([a-z][a-z0-9+.\-]*://).*@", re.IGNORECASE | re.DOTALL)
# The same inside free text (a GStreamer error quoting the location): up to a token's last '@'.
_USERINFO_IN_TEXT = re.compile(r"\b([a-z][a-z0-9+.\-]*://)[^\s'\"<>]*@", re.IGNORECASE)


class RtspTransport(StrEnum):
    # Interleaved in the RTSP connection: no lost packets and no UDP ports to open through
    # the mall's firewalls; what most VMS products default to.
    TCP = "tcp"
    UDP = "udp"


class StreamSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    transport: RtspTransport = RtspTransport.TCP
    username: str | None = Field(default=None, min_length=1)
    password: SecretStr | None = None
    # The client's jitter buffer: every millisecond of it is a millisecond of event latency.
    latency_ms: int = Field(default=200, ge=0, le=5000)
    # No frame for this long (server alive or not) means the camera is gone: reconnect.
    stall_timeout_s: float = Field(default=5.0, gt=0, le=300)

    @model_validator(mode="after")
    def _password_needs_user(self) -> StreamSettings:
        if self.password is not None and self.username is None:
            raise ValueError("stream.password is set without stream.username")
        return self


def redact_uri(uri: str) -> str:
    """`uri` with any user:password@ part masked, for logs, errors and camera-status messages."""
    return _USERINFO.sub(r"\1***@", uri)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every URI's user:password@ masked and each of `secrets` replaced, wherever they appear."""
    text = _USERINFO_IN_TEXT.sub(r"\1***@", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def has_userinfo(uri: str) -> bool:
    """True when `uri` may carry user[:password]@: by the same rule `redact_uri` masks it."""
    return _USERINFO.match(uri) is not None
