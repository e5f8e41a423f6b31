"""The batch and streaming transform jobs on real PostgreSQL, Kafka and Spark."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import orjson
import pytest

from tweetpipe import kafka
from tweetpipe.collect.synthetic import produce_synthetic
from tweetpipe.services import spark_cluster
from tweetpipe.settings import Settings
from tweetpipe.transform import batch_job

from ..data import all_files, sample
from ..pipeline import count, load_all, produce_raw, query, replay, settings_env
from ..waiting import reap, wait_until
from .test_trends import assert_trends_counted

pytestmark = [pytest.mark.integration, pytest.mark.spark]
CLI = [sys.executable, "-m", "tweetpipe.cli"]
COMPARED = ("tweet_id, minute, clean_text, hashtags, mentions, cashtags, url_domains, emojis,"
            " is_retweet, is_reply, is_quote, has_media, word_count, char_count,"
            " round(sentiment::numeric, 6), sentiment_label")


def add_synthetic(settings: Settings, tweets: int, seed: int) -> None:
    with kafka.TweetProducer(settings) as producer:
        produce_synthetic(producer, tweets, seed=seed)


def test_incremental_runs_write_only_new_rows(pipeline: Settings, spark: Any) -> None:
    replay(pipeline, [sample("brexit")])
    load_all(pipeline)
    assert batch_job.run_batch(pipeline, spark=spark).upserted == 100
    again = batch_job.run_batch(pipeline, spark=spark)
    assert (again.read, again.upserted) == (0, 0)
    add_synthetic(pipeline, 250, seed=21)
    load_all(pipeline)
    third = batch_job.run_batch(pipeline, spark=spark)
    assert (third.read, third.upserted) == (250, 250)
    assert count(pipeline, "tweet_transformed") == 350
    assert count(pipeline, "trend_minute") > 0
    # a late tweet (old tweet time, loaded now) updates its minute's trends
    (minute, tweets) = query(pipeline, "SELECT minute, tweets FROM trend_minute"
                                       " ORDER BY minute LIMIT 1")[0]
    late = {"id": "42", "text": "late #Brexit news", "lang": "en",
            "created_at": minute.isoformat().replace("+00:00", "Z"),
            "entities": {"hashtags": [{"start": 5, "end": 12, "tag": "Brexit"}]}}
    produce_raw(pipeline, [("42", orjson.dumps(late))])
    load_all(pipeline)
    assert batch_job.run_batch(pipeline, spark=spark).upserted == 1
    assert query(pipeline, "SELECT tweets FROM trend_minute WHERE minute = %s",
                 minute) == [(tweets + 1,)]
    assert query(pipeline, "SELECT tweets FROM trend_hashtag WHERE minute = %s"
                           " AND hashtag = 'brexit'", minute)[0][0] >= 1
    full = batch_job.run_batch(pipeline, spark=spark, full=True)
    assert (full.read, full.upserted) == (351, 351)
    assert count(pipeline, "tweet_transformed") == 351
    assert_trends_counted(pipeline)  # kept run by run on real tweets: as counted afresh


def test_killed_after_staging_then_rerun_is_exact(pipeline: Settings, spark: Any) -> None:
    replay(pipeline, [sample("withheld")])
    load_all(pipeline)
    crashed = subprocess.run([*CLI, "transform", "--crash-after-stage"],
                             env=settings_env(pipeline), capture_output=True, timeout=300,
                             check=False)
    assert crashed.returncode == -9
    stages = query(pipeline, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
                             " AND tablename LIKE 'tweet_transformed_stage_%%'")
    assert stages == [(1,)]  # staged, never committed
    assert count(pipeline, "tweet_transformed") == 0
    rerun = batch_job.run_batch(pipeline, spark=spark)
    assert (rerun.read, rerun.upserted) == (215, 215)
    assert count(pipeline, "tweet_transformed") == 215
    assert query(pipeline, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
                           " AND tablename LIKE 'tweet_transformed_stage_%%'") == [(0,)]


def test_same_results_on_local_and_standalone_cluster(
        stack: Settings, pipeline: Settings, spark: Any) -> None:
    replay(pipeline, all_files())
    load_all(pipeline)
    batch_job.run_batch(pipeline, spark=spark)
    assert_trends_counted(pipeline)  # every bundled real response
    local = query(pipeline, f"SELECT {COMPARED} FROM tweet_transformed ORDER BY tweet_id")  # noqa: S608
    master = spark_cluster.start(stack, cores=1, memory="1g")
    try:
        done = subprocess.run([*CLI, "transform", "--full", "--master", master],
                              env=settings_env(pipeline), capture_output=True, text=True,
                              timeout=600, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
    finally:
        spark_cluster.stop(stack)
    cluster = query(pipeline, f"SELECT {COMPARED} FROM tweet_transformed ORDER BY tweet_id")  # noqa: S608
    assert len(local) == 431
    assert cluster == local


def test_streaming_killed_and_restarted_is_exact(pipeline: Settings) -> None:
    add_synthetic(pipeline, 3000, seed=31)
    env = settings_env(pipeline)
    first = subprocess.Popen([*CLI, "transform", "--stream"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: count(pipeline, "transform_batches") > 0 or first.poll() is not None,
                   180, "the streaming job committed no micro-batch", interval=0.5)
        assert first.poll() is None, f"the streaming job exited early ({first.returncode})"
        add_synthetic(pipeline, 2000, seed=32)
        time.sleep(1.0)
    finally:
        first.kill()
        reap(first, 30, "the killed streaming job did not exit")
    assert count(pipeline, "transform_batches") >= 1
    add_synthetic(pipeline, 1000, seed=33)
    done = subprocess.run([*CLI, "transform", "--stream", "--idle-seconds", "6"], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert count(pipeline, "tweet_transformed") == 6000
    assert "latency" in done.stderr + done.stdout
