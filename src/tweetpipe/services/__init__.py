"""`tweetpipe services up | down | status`: real Kafka and PostgreSQL, no Docker."""

from __future__ import annotations

from tweetpipe.services import jars, kafka, postgres
from tweetpipe.services.status import ServiceStatus
from tweetpipe.settings import Settings

__all__ = ["ServiceStatus", "down", "status", "up"]


def up(settings: Settings) -> list[ServiceStatus]:
    """Start what is not running yet (idempotent); also fetch Spark's JVM jars."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    settings.state_dir.chmod(0o755)
    results = [postgres.up(settings), kafka.up(settings)]
    jars.resolve(settings, "spark")
    return results


def down(settings: Settings) -> list[str]:
    """Stop only what `up` started; return the names stopped."""
    stopped = []
    if kafka.down(settings):
        stopped.append(kafka.NAME)
    if postgres.down(settings):
        stopped.append(postgres.NAME)
    return stopped


def status(settings: Settings) -> list[ServiceStatus]:
    return [postgres.status(settings), kafka.status(settings)]
