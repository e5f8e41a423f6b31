"""The loader on real Kafka and PostgreSQL facing hostile records and rows PostgreSQL refuses:
every message becomes a row or a dead letter, the loader ends normally, nothing stalls."""

from __future__ import annotations

import orjson
import pytest

from tweetpipe import db
from tweetpipe.settings import Settings

from ..pipeline import load_all, produce_raw, query, stored_offsets_equal_log_end

pytestmark = pytest.mark.integration


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def tweet(tweet_id: int, **fields: object) -> tuple[str, bytes]:
    return str(tweet_id), orjson.dumps({"id": str(tweet_id), "text": f"t{tweet_id}", **fields})


def test_hostile_records_and_good_ones(pipeline: Settings) -> None:
    messages = [
        tweet(1, entities={"hashtags": [{"tag": "ok"}]}, author={"id": "9", "username": "u"}),
        tweet(2, entities="a string"),
        tweet(3, entities={"hashtags": {"tag": "x"}}, public_metrics=[1, 2]),
        tweet(4, attachments={"media": 5, "media_keys": "abc"}, referenced_tweets="r"),
        tweet(5, edit_history_tweet_ids=7, geo={"coordinates": [1, 2]}),
        tweet(6, public_metrics={"like_count": 2**40}),  # beyond `integer`: refused by PostgreSQL
        tweet(7, author={"id": "9" * 30}),  # a user id beyond bigint: refused by PostgreSQL
        ("8", b'{"id": "8", "text": "t", "entities": ' + deep(600) + b"}"),
        ("9", deep(5000)),
        ("10", b'{"id": "10", "text": "lone \\ud800", "x": ' + deep(2000) + b"}"),
        ("11", b'{"id": "' + b"9" * 5000 + b'", "text": "t"}'),
        tweet(12, lang="en"),
    ]
    produce_raw(pipeline, messages)
    stats = load_all(pipeline)
    assert stats.messages == len(messages)
    assert stats.rows + stats.dead_letters == len(messages)
    loaded = {r[0] for r in query(pipeline, "SELECT tweet_id FROM tweet_merge")}
    assert loaded == {1, 2, 3, 4, 5, 12}
    dead = sorted(query(pipeline, "SELECT kafka_offset, reason FROM dead_letters"))
    assert sorted(r for _, r in dead) == [
        "nested too deep", "nested too deep", "nested too deep", "not a tweet",
        "rejected by PostgreSQL", "rejected by PostgreSQL"]
    assert stats.dead_letters == len(dead) == 6
    (hashtags,) = query(pipeline, "SELECT hashtags FROM tweet_merge WHERE tweet_id = 3")[0]
    assert hashtags == []
    assert stored_offsets_equal_log_end(pipeline)


def test_row_refused_for_integrity_is_dead_lettered_and_the_batch_lands(
        pipeline: Settings) -> None:
    with db.connect(pipeline, autocommit=True) as conn:
        conn.execute("ALTER TABLE tweet_merge ADD CONSTRAINT no_sevens CHECK (tweet_id % 10 <> 7)")
    messages = [tweet(i) for i in range(10, 20)]
    produce_raw(pipeline, messages)
    stats = load_all(pipeline)
    assert (stats.rows, stats.dead_letters) == (9, 1)
    loaded = {r[0] for r in query(pipeline, "SELECT tweet_id FROM tweet_merge")}
    assert loaded == set(range(10, 20)) - {17}
    ((reason, detail, topic, partition, offset, raw),) = query(
        pipeline, "SELECT reason, detail, kafka_topic, kafka_partition, kafka_offset, raw"
                  " FROM dead_letters")
    assert reason == "rejected by PostgreSQL"
    assert "CheckViolation" in detail and "no_sevens" in detail
    assert topic == pipeline.kafka_topic
    assert orjson.loads(bytes(raw))["id"] == "17"
    stored = query(pipeline, "SELECT partition, next_offset FROM kafka_offsets")
    assert dict(stored)[partition] > offset
    assert stored_offsets_equal_log_end(pipeline)
