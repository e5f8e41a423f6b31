"""Hostile batches through the loader's parse and writer into the real PostgreSQL.

Hypothesis draws batches of mutated real records (tests/hostile.py: wrong nested types, ids
beyond bigint, huge arrays, nesting 20,000 deep, text PostgreSQL rejects, damaged bytes, odd
keys and headers) and stores each batch the way the loader does (`Loader._add` per message, then
`_store` in one transaction with the offsets). Nothing may escape, and the accounting is exact:
every message is a row of its tweet id or an API-errors message or one dead letter at its
Kafka coordinates with its reason and its key; tweet_merge holds exactly the distinct ids of
the messages that are not dead letters; the stored offset is past the last message.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from tweetpipe import db
from tweetpipe.errors import RecordError
from tweetpipe.load.loader import Batch, Loader
from tweetpipe.load.rows import Coordinates, parse_message
from tweetpipe.settings import Settings

from ..hostile import Message, hostile_messages
from ..pipeline import query

pytestmark = pytest.mark.integration
TABLES = ("tweet_merge", "tweet_author", "tweet_media", "tweet_place", "tweet_poll",
          "tweet_included", "api_errors", "dead_letters", "kafka_offsets")
PARTITION = 2


@dataclass
class Delivered:
    """A Kafka message as the consumer hands it over (confluent_kafka.Message's accessors)."""

    message: Message
    _topic: str
    _offset: int

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return PARTITION

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes | None:
        return self.message.key

    def value(self) -> bytes | None:
        return self.message.value

    def headers(self) -> list[tuple[str, bytes]]:
        return self.message.headers


@pytest.fixture
def loader(pipeline: Settings) -> Iterator[Loader]:
    made = Loader(pipeline)
    made._assigned = {PARTITION}
    yield made
    if made._conn is not None:
        made._conn.close()


def store(loader: Loader, delivered: list[Delivered]) -> Batch:
    """What the loader does with a batch in hand: parse every message, store them all."""
    batch = Batch()
    for msg in delivered:
        loader._add(batch, msg)
    loader._with_db_retry(functools.partial(loader._store, batch=batch))
    loader._account(batch)
    return batch


def tweet_id(message: Message) -> int | None:
    """The tweet id a message of unknown outcome loads under, if it parses as a tweet."""
    if message.expect != "either":
        return message.tweet_id
    try:
        parsed = parse_message(message.value, Coordinates("t", 0, 0), max_bytes=10**9)
    except RecordError:
        return None
    return int(parsed.column("tweet_id")) if parsed.tweet is not None else None


def check_accounting(pipeline: Settings, delivered: list[Delivered]) -> dict[str, int]:
    dead = {r[0]: r[1:] for r in query(
        pipeline, "SELECT kafka_offset, reason, detail, kafka_topic, kafka_partition, kafka_key"
                  " FROM dead_letters")}
    loaded = {r[0] for r in query(pipeline, "SELECT tweet_id FROM tweet_merge")}
    error_offsets = {r[0] for r in query(pipeline, "SELECT kafka_offset FROM api_errors")}
    expected_ids: set[int] = set()
    outcomes = {"row": 0, "errors": 0, "dead": 0}
    for d in delivered:
        m, offset = d.message, d.offset()
        if offset in dead:
            reason, detail, topic, partition, key = dead[offset]
            assert m.expect in ("dead", "either"), (m.kind, reason, detail)
            assert reason and detail and (topic, partition) == (d.topic(), PARTITION)
            assert (bytes(key) if key is not None else None) == m.key, (m.kind, reason)
            outcomes["dead"] += 1
        elif m.expect == "errors":
            outcomes["errors"] += 1
        else:
            assert m.expect in ("row", "either"), (m.kind, m.value[:300] if m.value else None)
            found = tweet_id(m)
            assert found is not None, m.kind
            expected_ids.add(found)
            outcomes["row"] += 1
    assert loaded == expected_ids
    assert len(dead) == outcomes["dead"]
    assert error_offsets <= {d.offset() for d in delivered if d.message.expect == "errors"}
    assert bool(error_offsets) == bool(outcomes["errors"])
    ((next_offset,),) = query(pipeline, "SELECT next_offset FROM kafka_offsets")
    assert next_offset == delivered[-1].offset() + 1
    return outcomes


@settings(max_examples=100, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(st.lists(hostile_messages, min_size=1, max_size=40))
def test_hostile_batches_end_as_rows_or_dead_letters(pipeline: Settings, loader: Loader,
                                                     batch: list[Message]) -> None:
    with db.connect(pipeline, autocommit=True) as conn:
        conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, TABLES))))
    delivered = [Delivered(m, pipeline.kafka_topic, 1000 + i) for i, m in enumerate(batch)]
    stats_before = (loader.stats.messages, loader.stats.rows, loader.stats.dead_letters)
    done = store(loader, delivered)
    outcomes = check_accounting(pipeline, delivered)
    assert len(done.dead) == outcomes["dead"]
    messages, rows, dead = (loader.stats.messages - stats_before[0],
                            loader.stats.rows - stats_before[1],
                            loader.stats.dead_letters - stats_before[2])
    assert (messages, rows, dead) == (len(batch), outcomes["row"], outcomes["dead"])


def test_a_refused_record_keeps_its_key(pipeline: Settings, loader: Loader) -> None:
    """A dead letter PostgreSQL causes (an author id beyond bigint) has the message's key."""
    value = b'{"id": "5", "text": "t", "author": {"id": "' + b"9" * 25 + b'"}}'
    good = b'{"id": "6", "text": "t"}'
    refused = Message(value, b"\x00binary key", "dead", "nested id")
    delivered = [Delivered(refused, pipeline.kafka_topic, 0),
                 Delivered(Message(good, b"6", "row", "real", 6), pipeline.kafka_topic, 1)]
    store(loader, delivered)
    assert check_accounting(pipeline, delivered) == {"row": 1, "errors": 0, "dead": 1}
    ((key, reason),) = query(pipeline, "SELECT kafka_key, reason FROM dead_letters")
    assert (bytes(key), reason) == (b"\x00binary key", "rejected by PostgreSQL")
