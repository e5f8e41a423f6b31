"""Topic administration, partition watermarks and the cluster's replication health."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from tweetpipe import net, retry
from tweetpipe.errors import RetryableKafkaError, last_line
from tweetpipe.kafka.configuration import client_config
from tweetpipe.kafka.errors import already_exists, from_kafka
from tweetpipe.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClusterHealth:
    """What the cluster's metadata says: the live (unfenced) brokers, and the partitions of
    all topics whose in-sync replicas are fewer than their replicas."""

    brokers: frozenset[int]
    under_replicated: int


def replication_for(brokers: int) -> tuple[int, dict[str, str]]:
    """Replicas per partition on a cluster of `brokers`, and the topic configs that go with
    them: 3 replicas of which 2 must acknowledge (one broker may be lost), or all there are."""
    replicas = min(3, max(brokers, 1))
    return replicas, ({"min.insync.replicas": "2"} if replicas == 3 else {})


def _metadata(admin: AdminClient, settings: Settings, timeout: float, *,
              topic: str | None = None, only: bool = False) -> Any:
    """The cluster's metadata (of `topic` alone when `only`); `topic` names it in errors."""
    try:
        return admin.list_topics(topic if only else None, timeout=timeout)
    except KafkaException as exc:
        admin.poll(0)  # serves error_cb: a TLS or SASL failure raises what to fix
        raise RetryableKafkaError(
            f"cannot reach Kafka at {settings.kafka_bootstrap_servers}: {last_line(exc)}"
            f"{_plaintext_hint(settings)}", topic=topic) from exc


def _plaintext_hint(settings: Settings) -> str:
    """A broker whose port answers but which closes a PLAINTEXT client's connection may
    require TLS or SASL: say which setting that is."""
    host, port = settings.kafka_host_port
    if settings.kafka_security_protocol != "PLAINTEXT" or not net.port_open(host, port):
        return ""
    return (f"; {host}:{port} accepts connections: if its listener requires TLS or SASL, set "
            "KAFKA_SECURITY_PROTOCOL (SSL, SASL_SSL) and the KAFKA_SASL_*/KAFKA_SSL_* settings")


def cluster_health(settings: Settings, *, bootstrap: str | None = None, timeout: float = 5.0
                   ) -> ClusterHealth:
    """Live brokers and under-replicated partitions, from one metadata request (to
    `bootstrap`, default the configured servers)."""
    admin = AdminClient(client_config(
        settings, "tweetpipe-health", log_level=0,
        **{"bootstrap.servers": bootstrap or settings.kafka_bootstrap_servers}))
    meta = _metadata(admin, settings, timeout)
    under = sum(1 for t in meta.topics.values() for p in t.partitions.values()
                if len(p.isrs) < len(p.replicas))
    return ClusterHealth(frozenset(meta.brokers), under)


def ensure_topic(settings: Settings, topic: str | None = None, *, timeout: float = 30.0) -> None:
    """Create the topic if it does not exist yet: the configured partitions, replicated as
    `replication_for` the brokers the cluster's metadata lists."""
    name = topic or settings.kafka_topic
    admin = AdminClient(client_config(settings, "tweetpipe-admin"))
    meta = _metadata(admin, settings, timeout, topic=name)
    if name in meta.topics:
        return
    replicas, config = replication_for(len(meta.brokers))
    log.info("creating topic %s: %d partitions, %d replicas %s", name,
             settings.kafka_partitions, replicas, config)
    futures = admin.create_topics([NewTopic(name, num_partitions=settings.kafka_partitions,
                                            replication_factor=replicas, config=config)])
    try:
        futures[name].result(timeout=timeout)
    except KafkaException as exc:
        if already_exists(exc):
            return
        raise from_kafka(exc, "cannot create topic", topic=name) from exc
    _wait_visible(admin, settings, name, timeout)


def _wait_visible(admin: AdminClient, settings: Settings, name: str, timeout: float) -> None:
    """Until the brokers' metadata shows every partition of the new topic with a leader (the
    controller commits the topic before the brokers learn of it)."""
    def visible() -> bool:
        meta = _metadata(admin, settings, timeout, topic=name, only=True).topics.get(name)
        return (meta is not None and meta.error is None
                and len(meta.partitions) == settings.kafka_partitions
                and all(p.leader >= 0 for p in meta.partitions.values()))

    retry.until(visible, delay=0.1, timeout=timeout, error=RetryableKafkaError,
                what=f"the new topic {name} to show in the brokers' metadata")


def watermarks(settings: Settings, topic: str | None = None) -> dict[int, tuple[int, int]]:
    """(low, high) watermark of every partition of the topic; {} if it does not exist."""
    name = topic or settings.kafka_topic
    admin = AdminClient(client_config(settings, "tweetpipe-admin"))
    meta = _metadata(admin, settings, 10, topic=name, only=True).topics.get(name)
    if meta is None or meta.error is not None:
        return {}
    consumer = Consumer(client_config(settings, "tweetpipe-status", **{
        "group.id": "tweetpipe-status", "enable.auto.commit": False}))
    try:
        return {p: partition_watermarks(consumer, name, p) for p in meta.partitions}
    finally:
        consumer.close()


def partition_watermarks(consumer: Any, topic: str, partition: int) -> tuple[int, int]:
    """(low, high) of one partition, asked of the broker (not a cached value). A leader that
    cannot answer (a broker lost, leadership moving) is a `RetryableKafkaError`."""
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition),
                                                   timeout=10, cached=False)
    except KafkaException as exc:
        raise from_kafka(exc, "cannot read the partition's watermarks", topic=topic,
                         partition=partition) from exc
    return int(low), int(high)
