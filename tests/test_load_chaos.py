"""Exactly-once under failure: kill -9, PostgreSQL restarts, rebalances (real services)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tweetpipe import kafka
from tweetpipe.collect.synthetic import produce_synthetic
from tweetpipe.load.loader import Loader, LoadOptions, LoadStats
from tweetpipe.services import postgres_server
from tweetpipe.settings import Settings

from .pipeline import count, query, settings_env, stored_offsets_equal_log_end
from .waiting import join, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "chaos_load.py"


def produce(settings: Settings, tweets: int, seed: int) -> None:
    with kafka.TweetProducer(settings) as producer:
        produce_synthetic(producer, tweets, seed=seed)


def test_kill_minus_nine_twenty_times_loses_and_duplicates_nothing(pipeline: Settings) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--tweets", "20000", "--kills", "20", "--max-gap", "1.5"],
        env=settings_env(pipeline), capture_output=True, text=True, timeout=600, check=False)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rows"] == result["distinct"] == 20000, result
    assert result["offsets_at_log_end"] and result["dead_letters"] == 0, result
    assert done.returncode == 0, done.stderr[-2000:]


def test_postgres_restart_mid_load_resumes_by_itself(own_postgres: Settings, pipeline: Settings
                                                     ) -> None:
    produce(pipeline, 30000, seed=11)
    stats: list[LoadStats] = []
    loader = Loader(pipeline, LoadOptions(idle_seconds=3.0, batch_messages=500))
    thread = threading.Thread(target=lambda: stats.append(loader.run()), daemon=True)
    thread.start()
    wait_until(lambda: loader.stats.rows >= 3000 or not thread.is_alive(), 120,
               lambda: f"the loader loaded {loader.stats.rows} rows, not 3000")
    assert thread.is_alive(), "the loader ended before the restart"
    postgres_server.restart(own_postgres, mode="fast")
    join(thread, 300, lambda: f"the loader did not finish: {loader.stats}")
    assert stats and stats[0].db_retries > 0
    assert count(pipeline, "tweet_merge") == 30000
    assert stored_offsets_equal_log_end(pipeline)


def test_two_loaders_with_a_rebalance_mid_run(pipeline: Settings) -> None:
    producer = threading.Thread(target=produce, args=(pipeline, 30000, 13), daemon=True)
    producer.start()
    results: list[LoadStats] = []
    first = Loader(pipeline, LoadOptions(idle_seconds=4.0, batch_messages=500))
    second = Loader(pipeline, LoadOptions(idle_seconds=4.0, batch_messages=500))
    threads = [threading.Thread(target=lambda lo=lo: results.append(lo.run()), daemon=True)
               for lo in (first, second)]
    threads[0].start()
    wait_until(lambda: first.stats.rows >= 2000 or not threads[0].is_alive(), 120,
               lambda: f"the first loader loaded {first.stats.rows} rows, not 2000")
    threads[1].start()  # joins the group: partitions move mid-run
    join(producer, 300, "the producer did not finish")
    for t in threads:
        join(t, 300, "a loader did not finish")
    assert len(results) == 2
    assert all(r.rows > 0 for r in results), "both loaders took part"
    assert count(pipeline, "tweet_merge") == 30000
    assert stored_offsets_equal_log_end(pipeline)


def test_sigterm_finishes_the_batch_and_leaves_the_group(pipeline: Settings) -> None:
    import signal

    produce(pipeline, 20000, seed=17)
    proc = subprocess.Popen([sys.executable, "-m", "tweetpipe.cli", "load", "--batch", "500"],
                            env=settings_env(pipeline), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: count(pipeline, "tweet_merge") > 0 or proc.poll() is not None, 120,
                   "the loader subprocess loaded nothing")
        assert proc.poll() is None, f"the loader exited early: {proc.communicate()[1][-2000:]}"
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, err[-2000:]
    assert "SIGTERM" in err
    loaded = count(pipeline, "tweet_merge")
    stored = sum(r[0] for r in query(pipeline, "SELECT next_offset FROM kafka_offsets"))
    assert loaded == stored  # rows and offsets committed together, nothing half-done
    Loader(pipeline, LoadOptions(idle_seconds=2.0)).run()
    assert count(pipeline, "tweet_merge") == 20000
    assert stored_offsets_equal_log_end(pipeline)
