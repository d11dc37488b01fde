"""VIP alert delivery: the gallery_alerts table is an outbox, drained to Kafka and webhooks.

The matcher writes one row per (site, gallery, visitor) in the batch's transaction, so an
alert exists exactly when its match was committed, and a replayed batch adds none. The
dispatcher publishes unpublished rows to the alerts topic (GalleryAlert, keyed by site)
and marks them; a crash between the two re-sends the same alert_id, which consumers drop.
Webhooks are POSTed with exponential backoff until a 2xx or `max_attempts`. Rows are
claimed with SKIP LOCKED on PostgreSQL, so dispatchers of several consumers never
deliver the same row at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from kafka import KafkaProducer
from sqlalchemy import and_, false, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from cloud.ingest.registry import SiteRegistry
from cloud.storage.db import session_factory
from cloud.storage.models import GalleryAlertRow
from shared.config.site import Webhook
from shared.messaging.settings import KafkaSettings
from shared.schema import ALERTS_TOPIC, SCHEMA_VERSION, TYPE_HEADER, partition_key, pb

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Mallflow-Signature"

# (url, body, headers, timeout_s) -> HTTP status; raises OSError when unreachable.
Poster = Callable[[str, bytes, dict[str, str], float], int]
# What the alerts topic carries (occupancy alerts: cloud/capacity/alerts.py).
AlertMessage = pb.GalleryAlert | pb.OccupancyAlert


def alert_id(gallery: str, visitor_id: str) -> str:
    return f"{gallery}:{visitor_id}"


def to_message(row: GalleryAlertRow, publish_ns: int) -> pb.GalleryAlert:
    return pb.GalleryAlert(
        schema_version=SCHEMA_VERSION,
        alert_id=alert_id(row.gallery, row.visitor_id),
        site_id=row.site_id,
        gallery=row.gallery,
        entry_id=row.entry_id,
        label=row.label,
        visitor_id=row.visitor_id,
        similarity=row.similarity,
        event_time_ns=row.event_ns,
        first_seen_ns=row.first_seen_ns,
        camera_id=row.camera_id,
        publish_time_ns=publish_ns,
    )


def webhook_body(row: GalleryAlertRow) -> bytes:
    return json.dumps(
        {
            "alert_id": alert_id(row.gallery, row.visitor_id),
            "site_id": row.site_id,
            "gallery": row.gallery,
            "entry_id": row.entry_id,
            "label": row.label,
            "visitor_id": row.visitor_id,
            "similarity": round(row.similarity, 4),
            "event_time_ns": row.event_ns,
            "first_seen_ns": row.first_seen_ns,
            "camera_id": row.camera_id,
        },
        separators=(",", ":"),
    ).encode()


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_json(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


class AlertPublisher(Protocol):
    def publish(self, messages: Sequence[AlertMessage]) -> None:
        """Deliver them all or raise: the rows stay unpublished then."""


class KafkaAlertPublisher:
    """One producer for every alert the process publishes; thread-safe, as KafkaProducer is."""

    def __init__(self, settings: KafkaSettings, topic: str = ALERTS_TOPIC) -> None:
        self.topic = topic
        self._producer = KafkaProducer(**settings.client_kwargs(), acks="all", retries=10, linger_ms=5)

    def publish(self, messages: Sequence[AlertMessage], timeout_s: float = 30.0) -> None:
        """Raises when the broker did not take them all: the rows then stay unpublished."""
        futures = [
            self._producer.send(
                self.topic,
                key=partition_key(m.site_id),
                value=m.SerializeToString(),
                headers=[(TYPE_HEADER, m.DESCRIPTOR.full_name.encode())],
            )
            for m in messages
        ]
        self._producer.flush(timeout=timeout_s)
        for future in futures:
            future.get(timeout=timeout_s)

    def close(self) -> None:
        self._producer.close(timeout=10)


@dataclass
class DeliveryReport:
    published: int = 0
    webhooks_delivered: int = 0
    webhooks_retrying: int = 0
    webhooks_failed: int = 0


@dataclass(frozen=True)
class DispatchSettings:
    # Rows per round; a round is one transaction.
    batch: int = 200
    interval_s: float = 0.5

    def __post_init__(self) -> None:
        if self.batch < 1 or self.interval_s <= 0:
            raise ValueError("batch must be >= 1 and interval_s > 0")


class AlertDispatcher:
    def __init__(
        self,
        registry: SiteRegistry,
        engine: Engine,
        publisher: AlertPublisher | None,
        settings: DispatchSettings | None = None,
        poster: Poster = post_json,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.registry = registry
        self.publisher = publisher
        self.settings = settings or DispatchSettings()
        self.poster = poster
        self.clock = clock
        self.stop = threading.Event()
        self._sessions: sessionmaker[Session] = session_factory(engine)

    def deliver_once(self) -> DeliveryReport:
        report = DeliveryReport()
        now = self.clock()
        with self._sessions.begin() as session:
            rows = list(
                session.scalars(
                    select(GalleryAlertRow)
                    .where(
                        or_(
                            GalleryAlertRow.published.is_(False) if self.publisher is not None else false(),
                            and_(GalleryAlertRow.webhook_state == "pending", GalleryAlertRow.next_attempt_ns <= now),
                        )
                    )
                    .order_by(GalleryAlertRow.event_ns)
                    .limit(self.settings.batch)
                    .with_for_update(skip_locked=True)
                )
            )
            unpublished = [r for r in rows if not r.published]
            if self.publisher is not None and unpublished:
                self.publisher.publish([to_message(r, now) for r in unpublished])
                for r in unpublished:
                    r.published = True
                report.published = len(unpublished)
            for row in rows:
                if row.webhook_state == "pending" and row.next_attempt_ns <= now:
                    self._webhook(row, now, report)
        return report

    def _webhook(self, row: GalleryAlertRow, now: int, report: DeliveryReport) -> None:
        hook = self._webhook_of(row)
        if hook is None:
            # The gallery lost its webhook (config change): nothing left to deliver.
            row.webhook_state = "none"
            return
        body = webhook_body(row)
        headers = {"Content-Type": "application/json", "X-Mallflow-Alert-Id": alert_id(row.gallery, row.visitor_id)}
        if hook.secret_env:
            secret = os.environ.get(hook.secret_env)
            if secret:
                headers[SIGNATURE_HEADER] = sign(body, secret)
        row.webhook_attempts += 1
        try:
            status = self.poster(hook.url, body, headers, hook.timeout_s)
            error = "" if 200 <= status < 300 else f"HTTP {status}"
        except OSError as exc:
            error = f"{exc.__class__.__name__}: {exc}"[:500]
        if not error:
            row.webhook_state, row.webhook_error = "delivered", ""
            report.webhooks_delivered += 1
        elif row.webhook_attempts >= hook.max_attempts:
            row.webhook_state, row.webhook_error = "failed", error
            report.webhooks_failed += 1
            log.error("webhook for alert %s failed %d times: %s", row.visitor_id, row.webhook_attempts, error)
        else:
            row.webhook_error = error
            row.next_attempt_ns = now + round(hook.backoff_s * 2 ** (row.webhook_attempts - 1) * 1e9)
            report.webhooks_retrying += 1

    def _webhook_of(self, row: GalleryAlertRow) -> Webhook | None:
        try:
            return self.registry.site(row.site_id).gallery(row.gallery).webhook
        except KeyError:
            return None

    def run(self) -> None:
        """Deliver until `stop` is set; a failed round (broker or database away) is retried next round."""
        while not self.stop.is_set():
            try:
                self.deliver_once()
            except Exception:  # the outbox keeps the rows; the next round retries them
                log.exception("alert delivery round failed; retrying")
            self.stop.wait(self.settings.interval_s)
