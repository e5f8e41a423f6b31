"""End to end on real services: recorded X API v2 files -> Kafka -> PostgreSQL -> Spark."""

from __future__ import annotations

from typing import Any

import pytest

from tweetpipe.demo import distinct_ids
from tweetpipe.settings import Settings
from tweetpipe.transform import batch_job

from .data import all_files, sample
from .pipeline import count, load_all, query, replay

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def test_files_flow_through_kafka_postgres_and_spark(pipeline: Settings, spark: Any) -> None:
    expected = distinct_ids(all_files())
    assert len(expected) == 431
    replay(pipeline, all_files())
    load_all(pipeline)
    first = batch_job.run_batch(pipeline, spark=spark)
    assert (first.read, first.upserted) == (431, 431)
    assert count(pipeline, "tweet_merge") == count(pipeline, "tweet_transformed") == 431
    merged = {str(r[0]) for r in query(pipeline, "SELECT tweet_id FROM tweet_merge")}
    transformed = {str(r[0]) for r in query(pipeline, "SELECT tweet_id FROM tweet_transformed")}
    assert merged == transformed == expected

    # content: the edited tweet and a retweet, as loaded and as transformed
    (edited,) = query(pipeline, "SELECT m.text, t.clean_text, t.lang FROM tweet_merge m"
                                " JOIN tweet_transformed t USING (tweet_id)"
                                " WHERE tweet_id = 1576994789110992896")
    assert edited[0] == "hey :) https://t.co/rnwEIoNuqd"
    assert edited[1] == "hey :)"
    (rt,) = query(pipeline, "SELECT is_retweet, clean_text FROM tweet_transformed"
                            " WHERE tweet_id = 1589681856941002753")
    assert rt[0] is True and not rt[1].startswith("rt @")

    # a second run with no new data writes nothing
    second = batch_job.run_batch(pipeline, spark=spark)
    assert (second.read, second.upserted) == (0, 0)

    # N new rows -> exactly N upserted
    replay(pipeline, [sample("brexit")])  # already loaded: no new tweet ids, same content
    replay(pipeline, all_files())
    load_all(pipeline)
    assert batch_job.run_batch(pipeline, spark=spark).upserted == 0
    assert count(pipeline, "tweet_transformed") == 431
