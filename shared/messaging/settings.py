"""How to reach the Kafka cluster, including its security settings.

The same model feeds kafka-python's producer, consumer and admin client, so SASL_SSL
or mTLS is configured once (site YAML, environment or CLI) for both edge and cloud.
"""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SecurityProtocol(StrEnum):
    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class KafkaSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    bootstrap_servers: str = Field(default="127.0.0.1:9092", min_length=1)
    security_protocol: SecurityProtocol = SecurityProtocol.PLAINTEXT
    ssl_cafile: str | None = None
    # mTLS: client certificate and key.
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    sasl_mechanism: str | None = Field(default=None, pattern=r"^(PLAIN|SCRAM-SHA-256|SCRAM-SHA-512)$")
    sasl_username: str | None = None
    sasl_password: str | None = None
    client_id: str = "mallflow"

    @model_validator(mode="after")
    def _consistent(self) -> KafkaSettings:
        sasl = self.security_protocol in (SecurityProtocol.SASL_PLAINTEXT, SecurityProtocol.SASL_SSL)
        if sasl and not (self.sasl_mechanism and self.sasl_username and self.sasl_password):
            raise ValueError(f"{self.security_protocol} needs sasl_mechanism, sasl_username and sasl_password")
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            raise ValueError("mTLS needs both ssl_certfile and ssl_keyfile")
        return self

    @classmethod
    def from_env(cls, bootstrap_servers: str | None = None) -> KafkaSettings:
        """Settings from MALLFLOW_KAFKA_* variables; an explicit bootstrap wins."""
        fields: dict[str, Any] = {}
        for name in cls.model_fields:
            value = os.environ.get(f"MALLFLOW_KAFKA_{name.upper()}")
            if value:
                fields[name] = value
        if bootstrap_servers:
            fields["bootstrap_servers"] = bootstrap_servers
        return cls(**fields)

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments common to kafka-python's KafkaProducer/KafkaConsumer/KafkaAdminClient."""
        kw: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers.split(","),
            "security_protocol": self.security_protocol.value,
            "client_id": self.client_id,
        }
        optional = {
            "ssl_cafile": self.ssl_cafile,
            "ssl_certfile": self.ssl_certfile,
            "ssl_keyfile": self.ssl_keyfile,
            "sasl_mechanism": self.sasl_mechanism,
            "sasl_plain_username": self.sasl_username,
            "sasl_plain_password": self.sasl_password,
        }
        kw.update({k: v for k, v in optional.items() if v is not None})
        return kw
