"""Kafka topic -> PostgreSQL `tweet_merge` (and its side tables), exactly once.

`rows` turns a Kafka message into typed rows (or a dead-letter reason), `writer` stores a batch
with COPY and one upsert per table, `loader` is the consumer loop that commits rows and offsets
in one transaction.
"""

from tweetpipe.load.loader import Loader, LoadOptions, LoadStats, load

__all__ = ["LoadOptions", "LoadStats", "Loader", "load"]
