"""`tweetpipe services up | down | status`: real Kafka and PostgreSQL, no Docker."""

from __future__ import annotations

from tweetpipe.services import jars, kafka_broker, kafka_cluster, postgres_server
from tweetpipe.services.health import ServiceStatus
from tweetpipe.settings import Settings

__all__ = ["ServiceStatus", "down", "status", "up"]


def up(settings: Settings) -> list[ServiceStatus]:
    """Start what is not running yet (idempotent); also fetch Spark's JVM jars."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    settings.state_dir.chmod(0o755)
    results = [postgres_server.up(settings), *_kafka_up(settings)]
    jars.resolve(settings, "spark")
    return results


def _kafka_up(settings: Settings) -> list[ServiceStatus]:
    if settings.kafka_brokers > 1:
        return kafka_cluster.up(settings)
    return [kafka_broker.up(settings)]


def down(settings: Settings) -> list[str]:
    """Stop only what `up` started (every node of a cluster); return the names stopped."""
    stopped = kafka_cluster.down(settings)
    if kafka_broker.down(settings):
        stopped.append(kafka_broker.NAME)
    if postgres_server.down(settings):
        stopped.append(postgres_server.NAME)
    return stopped


def status(settings: Settings) -> list[ServiceStatus]:
    """PostgreSQL, then Kafka: one row, or one per node of a cluster."""
    if kafka_cluster.in_use(settings):
        return [postgres_server.status(settings), *kafka_cluster.status(settings)]
    return [postgres_server.status(settings), kafka_broker.status(settings)]
