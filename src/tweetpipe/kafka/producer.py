"""Kafka producer: one message per tweet record, keyed by tweet id, idempotent, never silent.

Every producer in tweetpipe is built here, with the same settings: idempotence on, acks=all,
zstd compression, linger tuned for throughput. Delivery failures are collected and raised on
`flush()`; a full local queue blocks the caller (back-pressure) instead of dropping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from confluent_kafka import KafkaException, Producer

from tweetpipe import retry
from tweetpipe.errors import KafkaError, RetryableKafkaError
from tweetpipe.kafka.configuration import client_config
from tweetpipe.kafka.errors import from_kafka
from tweetpipe.settings import Settings

log = logging.getLogger(__name__)

PRODUCER_DEFAULTS: Mapping[str, Any] = {
    "enable.idempotence": True,
    "acks": "all",
    "compression.type": "zstd",
    "linger.ms": 20,
    "batch.size": 1_000_000,
    "queue.buffering.max.messages": 200_000,
    "queue.buffering.max.kbytes": 512 * 1024,
    "message.timeout.ms": 0,  # never expire a queued message: wait for Kafka to come back
}


def producer_config(settings: Settings, **overrides: Any) -> dict[str, Any]:
    return client_config(settings, "tweetpipe-collector", **PRODUCER_DEFAULTS, **overrides)


class TweetProducer:
    """A thin wrapper around confluent-kafka's Producer for tweet records."""

    def __init__(self, settings: Settings, *, topic: str | None = None,
                 stop: threading.Event | None = None, **overrides: Any) -> None:
        self.topic = topic or settings.kafka_topic
        self.stop = stop or threading.Event()  # a full queue is waited out until stopped
        self._producer = Producer(producer_config(settings, **overrides))
        self.sent = 0
        self.delivered = 0
        self._failures: list[str] = []

    def _on_delivery(self, err: Any, msg: Any) -> None:
        if err is None:
            self.delivered += 1
        else:
            key = msg.key().decode(errors="replace") if msg.key() else None
            self._failures.append(f"{err} (key={key})")

    def send(self, key: str | None, value: bytes, headers: Mapping[str, str] | None = None) -> None:
        """Queue one message; blocks while the local queue is full (until `stop` is set), so
        nothing is dropped."""
        def produce() -> None:
            try:
                self._producer.produce(
                    self.topic, value=value, key=key.encode() if key is not None else None,
                    headers=dict(headers) if headers else None, on_delivery=self._on_delivery)
            except KafkaException as exc:
                raise from_kafka(exc, "cannot produce", topic=self.topic, key=key,
                                 size=len(value)) from exc

        try:
            produce()
        except BufferError:
            self._wait_for_room(produce)
        self.sent += 1
        self._producer.poll(0)

    def _wait_for_room(self, produce: Callable[[], None]) -> None:
        """Serve delivery reports (which free the queue) until `produce` gets in."""
        try:
            retry.call(produce, retry_on=BufferError, delay=0.1, stop=self.stop,
                       sleep=self._producer.poll, on_retry=self._queue_full,
                       what=f"room in the producer queue (topic {self.topic})")
        except BufferError:
            raise RetryableKafkaError("stopped while the producer queue was full",
                                      topic=self.topic) from None

    @staticmethod
    def _queue_full(attempt: retry.Attempt) -> None:
        if attempt.number % 300 == 0:  # every ~30 s
            log.warning("the producer queue has been full for %.0fs: Kafka is slow or down; "
                        "waiting (nothing is dropped)", attempt.elapsed)

    def send_record(self, record: Mapping[str, Any]) -> None:
        self.send(str(record["id"]), orjson.dumps(record))

    def flush(self, timeout: float = 120.0) -> None:
        """Wait until every queued message is acknowledged; raise if any was not."""
        remaining = len(self._producer)

        def acknowledged() -> bool:
            nonlocal remaining
            remaining = self._producer.flush(1.0)
            return remaining == 0

        retry.until(acknowledged, delay=0.0, timeout=timeout, error=RetryableKafkaError,
                    what=f"Kafka to acknowledge what was sent to topic {self.topic}",
                    details=lambda: f"{remaining} messages still unacknowledged")
        if self._failures:
            failures, self._failures = self._failures, []
            raise KafkaError(
                f"{len(failures)} messages were not delivered; first: {failures[0]}",
                topic=self.topic,
            )

    def __enter__(self) -> TweetProducer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()
