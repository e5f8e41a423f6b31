"""`tweetpipe services up | down | status`: real Kafka and PostgreSQL, no Docker."""

from __future__ import annotations

from tweetpipe.services import jars, kafka_broker, postgres_server
from tweetpipe.services.health import ServiceStatus
from tweetpipe.settings import Settings

__all__ = ["ServiceStatus", "down", "status", "up"]


def up(settings: Settings) -> list[ServiceStatus]:
    """Start what is not running yet (idempotent); also fetch Spark's JVM jars."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    settings.state_dir.chmod(0o755)
    results = [postgres_server.up(settings), kafka_broker.up(settings)]
    jars.resolve(settings, "spark")
    return results


def down(settings: Settings) -> list[str]:
    """Stop only what `up` started; return the names stopped."""
    stopped = []
    if kafka_broker.down(settings):
        stopped.append(kafka_broker.NAME)
    if postgres_server.down(settings):
        stopped.append(postgres_server.NAME)
    return stopped


def status(settings: Settings) -> list[ServiceStatus]:
    return [postgres_server.status(settings), kafka_broker.status(settings)]
