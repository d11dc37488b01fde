"""A batch whose offsets cannot be committed (the group moved on, the broker is down) is not the end of the consumer."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.errors import CommitFailedError, KafkaConnectionError, KafkaTimeoutError
from sqlalchemy import func, select

from cloud.consumer.service import ConsumerService
from cloud.consumer.settings import ConsumerSettings
from cloud.ingest.registry import SiteRegistry
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import LineCrossing
from shared.config import SiteConfig
from shared.messaging import KafkaSettings
from shared.schema import pb


class _Consumer:
    def __init__(self, error: Exception) -> None:
        self.commits = 0
        self.error = error

    def commit(self, offsets: Any) -> None:
        self.commits += 1
        raise self.error


class _DeadLetters:
    def send(self, *args: Any) -> None:
        raise AssertionError("nothing here is bad")

    def flush(self) -> None:
        pass


def _record(offset: int, seq: int) -> SimpleNamespace:
    env = pb.Envelope(
        schema_version=1, site_id="pets09", camera_id="cam-main", edge_id="e", seq=seq, event_time_ns=time.time_ns()
    )
    env.line_crossing.CopyFrom(pb.LineCrossing(line_id="mid-vertical", direction=pb.DIRECTION_IN, track_id=seq))
    return SimpleNamespace(topic="t", partition=0, offset=offset, key=b"pets09", value=env.SerializeToString())


@pytest.mark.parametrize(
    "error",
    [
        CommitFailedError("UnknownMemberIdError"),
        # The broker went down between the transaction and the commit (seen in the fault soak).
        KafkaConnectionError("111 ECONNREFUSED"),
        KafkaTimeoutError("coordinator not available"),
    ],
)
def test_a_failed_commit_leaves_the_batch_to_redelivery(
    tmp_path: Path, pets09_site: SiteConfig, error: Exception
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)
    service = ConsumerService(SiteRegistry([pets09_site]), create_db_engine(url), KafkaSettings(), ConsumerSettings())
    consumer = _Consumer(error)
    batch = {TopicPartition("t", 0): [_record(0, 1), _record(1, 2)]}
    service._process(consumer, _DeadLetters(), batch)  # type: ignore[arg-type]
    # Redelivered after the group takes the consumer back: the seq gate skips it.
    service._process(consumer, _DeadLetters(), batch)  # type: ignore[arg-type]
    assert consumer.commits == 2 and service.batches == 2 and service.applied == 2
    with session_factory(create_db_engine(url))() as session:
        assert session.scalar(select(func.count()).select_from(LineCrossing)) == 2
