"""Client configuration shared by every Kafka client tweetpipe makes."""

from __future__ import annotations

import logging
from typing import Any

from tweetpipe.settings import Settings

KAFKA_LOG = logging.getLogger("tweetpipe.kafka")


def client_config(settings: Settings, client_id: str, **overrides: Any) -> dict[str, Any]:
    """librdkafka settings for a producer, consumer or admin client of these settings."""
    return {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "client.id": client_id,
        "logger": KAFKA_LOG,
        **overrides,
    }
