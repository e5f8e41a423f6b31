"""Hostile input end to end on real Kafka and PostgreSQL: `collect replay` of mutated X
responses and mutated records produced straight to the topic, then `tweetpipe load
--until-idle`. The loader never exits on a record, every partition's stored offset reaches
the log end, and every message in the topic is a row, an API-errors message or one dead
letter at its coordinates (with its reason and key): counts exact.

The input is seeded (tests/hostile.py), so the counts are the same on every run: 2,000
records (wrong nested types, ids beyond bigint, 1,000- and 5,000-element arrays, nesting up
to 20,000 deep, text PostgreSQL rejects, damaged and arbitrary bytes, truncated JSON, odd keys
and headers) and 600 response lines (search pages cut to 1-5 tweets, stream lines).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from tweetpipe import kafka
from tweetpipe.collect import RAW_LINE_HEADER
from tweetpipe.kafka.configuration import client_config
from tweetpipe.kafka.producer import producer_config
from tweetpipe.settings import Settings

from .hostile import Message, messages, response_lines
from .pipeline import count, query, settings_env, stored_offsets_equal_log_end

pytestmark = [pytest.mark.integration, pytest.mark.slow]
RECORDS, LINES = 2000, 600


def produce(settings: Settings, made: list[Message]) -> dict[tuple[int, int], Message]:
    """Send the messages as they are (keys, headers); their coordinates."""
    where: dict[tuple[int, int], Message] = {}
    producer = Producer(producer_config(settings))
    for message in made:
        def delivered(err: Any, msg: Any, message: Message = message) -> None:
            assert err is None, err
            where[(msg.partition(), msg.offset())] = message

        producer.produce(settings.kafka_topic, value=message.value, key=message.key,
                         headers=list(message.headers) or None, on_delivery=delivered)
        producer.poll(0)
    assert producer.flush(120) == 0
    assert len(where) == len(made)
    return where


def topic_contents(settings: Settings) -> dict[tuple[int, int], Any]:
    """Every message in the topic by (partition, offset)."""
    consumer = Consumer(client_config(settings, "hostile-reader", **{
        "group.id": "hostile-reader", "enable.auto.commit": False}))
    try:
        ends = {p: high for p, (_, high) in kafka.watermarks(settings).items()}
        consumer.assign([TopicPartition(settings.kafka_topic, p, 0) for p in ends])
        found: dict[tuple[int, int], Any] = {}
        while len(found) < sum(ends.values()):
            for msg in consumer.consume(500, timeout=5):
                assert msg.error() is None, msg.error()
                found[(int(msg.partition() or 0), int(msg.offset() or 0))] = msg
        return found
    finally:
        consumer.close()


def run_cli(settings: Settings, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "tweetpipe.cli", *args],
                          env=settings_env(settings), capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, (args, done.stdout[-3000:], done.stderr[-3000:])
    return done.stdout


def test_hostile_records_and_responses_end_to_end(pipeline: Settings, tmp_path: Path) -> None:
    lines = response_lines(seed=11, n=LINES)
    recording = tmp_path / "hostile.jsonl"
    recording.write_bytes(b"".join(line + b"\n" for line in lines))
    run_cli(pipeline, "collect", "replay", str(recording))
    mine = produce(pipeline, messages(seed=12, n=RECORDS))
    run_cli(pipeline, "load", "--until-idle", "--idle-seconds", "2")

    assert stored_offsets_equal_log_end(pipeline)
    topic = topic_contents(pipeline)
    dead = {(p, o): (reason, detail, key) for p, o, reason, detail, key in query(
        pipeline, "SELECT kafka_partition, kafka_offset, reason, detail, kafka_key"
                  " FROM dead_letters")}
    loaded = {r[0] for r in query(pipeline, "SELECT tweet_id FROM tweet_merge")}
    errors_at = {(p, o) for p, o in query(
        pipeline, "SELECT kafka_partition, kafka_offset FROM api_errors")}
    outcome = {"row": 0, "errors": 0, "dead": 0}
    expected_ids, either = set(), 0
    for at, msg in topic.items():
        headers = dict(msg.headers() or [])
        mutated = mine.get(at)
        if at in dead:
            reason, detail, key = dead[at]
            assert reason and detail
            assert (bytes(key) if key is not None else None) == msg.key()
            assert mutated is None or mutated.expect in ("dead", "either"), (mutated, reason)
            outcome["dead"] += 1
        elif RAW_LINE_HEADER in headers and mutated is None:
            raise AssertionError(f"a line the collector could not use was loaded: {at}")
        elif msg.key() is None and (mutated is None or mutated.expect == "errors"):
            outcome["errors"] += 1  # a record of API errors no tweet claimed
        else:
            assert mutated is None or mutated.expect in ("row", "either"), mutated
            if mutated is None:  # a record of the collector's, keyed by its tweet id
                expected_ids.add(int(msg.key()))
            elif mutated.tweet_id is not None:
                expected_ids.add(mutated.tweet_id)
            else:
                either += 1
            outcome["row"] += 1
    assert sum(outcome.values()) == len(topic)
    assert len(dead) == outcome["dead"] == count(pipeline, "dead_letters")
    assert bool(errors_at) == bool(outcome["errors"])
    assert expected_ids <= loaded and len(loaded - expected_ids) <= either
    counts = (len(topic), outcome["row"], outcome["errors"], outcome["dead"], len(loaded))
    assert counts == (2776, 1345, 197, 1234, 396)
