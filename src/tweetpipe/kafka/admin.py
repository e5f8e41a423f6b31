"""Topic administration and partition watermarks."""

from __future__ import annotations

from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from tweetpipe.errors import RetryableKafkaError, last_line
from tweetpipe.kafka.configuration import client_config
from tweetpipe.kafka.errors import already_exists, from_kafka
from tweetpipe.settings import Settings


def ensure_topic(settings: Settings, topic: str | None = None, *, timeout: float = 30.0) -> None:
    """Create the topic with the configured partition count if it does not exist yet."""
    name = topic or settings.kafka_topic
    admin = AdminClient(client_config(settings, "tweetpipe-admin"))
    try:
        existing = admin.list_topics(timeout=timeout).topics
    except KafkaException as exc:
        raise RetryableKafkaError(
            f"cannot reach Kafka at {settings.kafka_bootstrap_servers}: {last_line(exc)}",
            topic=name) from exc
    if name in existing:
        return
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=settings.kafka_partitions, replication_factor=1)]
    )
    try:
        futures[name].result(timeout=timeout)
    except KafkaException as exc:
        if already_exists(exc):
            return
        raise from_kafka(exc, "cannot create topic", topic=name) from exc


def watermarks(settings: Settings, topic: str | None = None) -> dict[int, tuple[int, int]]:
    """(low, high) watermark of every partition of the topic; {} if it does not exist."""
    name = topic or settings.kafka_topic
    admin = AdminClient(client_config(settings, "tweetpipe-admin"))
    try:
        meta = admin.list_topics(name, timeout=10).topics.get(name)
    except KafkaException as exc:
        raise RetryableKafkaError(
            f"cannot reach Kafka at {settings.kafka_bootstrap_servers}: {last_line(exc)}",
            topic=name) from exc
    if meta is None or meta.error is not None:
        return {}
    consumer = Consumer(client_config(settings, "tweetpipe-status", **{
        "group.id": "tweetpipe-status", "enable.auto.commit": False}))
    try:
        return {p: partition_watermarks(consumer, name, p) for p in meta.partitions}
    finally:
        consumer.close()


def partition_watermarks(consumer: Any, topic: str, partition: int) -> tuple[int, int]:
    """(low, high) of one partition, asked of the broker (not a cached value)."""
    low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10,
                                               cached=False)
    return int(low), int(high)
