"""The load benchmark compares equal work: its seed loader and its bare COPY store exactly the
rows tweetpipe's loader stores, from the same real-shaped messages."""

from __future__ import annotations

import os

import pytest

from bench import load
from bench.data import mean_size, real_shaped_messages
from tweetpipe.load.rows import Coordinates, parse_message
from tweetpipe.settings import Settings

from ..fixtures.services import isolated


@pytest.mark.integration
def test_every_loader_of_the_benchmark_stores_the_same_rows(stack: Settings) -> None:
    settings = isolated(stack)
    messages = real_shaped_messages(2_000, seed=11)
    found = load.run(settings, messages=messages, processes=2, seed_count=None, batch=500,
                     keep=True)
    schemas = found["schemas"]
    try:
        rows = {name: load.stored_rows(settings.model_copy(update={"db_schema": schema}))
                for name, schema in schemas.items()}
    finally:
        load.drop(settings.model_copy(update={"kafka_topic": found["topic"]}),
                  [settings.model_copy(update={"db_schema": s}) for s in schemas.values()])
    assert set(schemas) == {"copy", "tweetpipe_1", "tweetpipe_2", "seed"}
    reference = rows["tweetpipe_1"]
    assert len(reference) == 2_000  # one row per message: every tweet id is fresh
    for name, stored in rows.items():
        assert stored == reference, f"{name} stored other rows than tweetpipe"
    assert found["same_rows"] and found["seed_rows_match"]
    for result in found["loaders"].values():
        assert result["tweets"] == 2_000 and result["tweets_per_s"] > 0
        assert result["cpu"]["us_per_tweet"]["postgresql"] > 0  # the server's work is seen
    assert found["loaders"]["tweetpipe_1"]["cpu"]["us_per_tweet"]["kafka"] > 0
    assert "kafka" not in found["loaders"]["copy"]["cpu"]["us_per_tweet"]  # read untimed


def test_cpu_per_tweet_and_the_ceiling_it_allows() -> None:
    found = load.cpu_per_tweet({"loader": 2.0, "postgresql": 1.0, "kafka": 0.5}, 10_000)
    assert found["us_per_tweet"] == {"loader": 200.0, "postgresql": 100.0, "kafka": 50.0}
    assert found["total_us_per_tweet"] == 350.0
    cores = os.cpu_count() or 1
    assert found["ceiling_per_s"] == round(cores / 350e-6)


def test_real_shaped_messages_are_real_tweets_with_fresh_ids() -> None:
    messages = real_shaped_messages(3_000, seed=3)
    assert messages == real_shaped_messages(3_000, seed=3), "seeded: the same bytes"
    assert messages != real_shaped_messages(3_000, seed=4)
    parsed = [parse_message(m, Coordinates("t", 0, i), max_bytes=1 << 20)
              for i, m in enumerate(messages)]
    ids = [p.column("tweet_id") for p in parsed]
    assert len(set(ids)) == len(ids)
    assert all(p.column("edit_root_id") <= p.column("tweet_id") for p in parsed)
    assert sum(bool(p.authors) for p in parsed) == len(parsed), "each carries its author"
    assert any(p.included for p in parsed) and any(p.media for p in parsed)
    assert 5_000 < mean_size(messages) < 8_000

