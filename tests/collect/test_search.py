"""`collect search` on real Kafka + PostgreSQL against the emulator over loopback HTTP, with
429s (with and without headers), 5xx, TCP resets and tight rate-limit windows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tweetpipe import collect, kafka
from tweetpipe.collect import search_position
from tweetpipe.collect.search import SearchOptions, collect_search
from tweetpipe.settings import Settings
from tweetpipe_emulator import EndpointLimit, SyntheticSource
from tweetpipe_emulator.cli import match_all_query

from ..pipeline import count, load_all, stored_offsets_equal_log_end
from .kit import TOKEN, client, emulator, matching_ids, merged_ids, sample_files, with_api

pytestmark = pytest.mark.integration
FAULTS = "429:0.08,429nohdr:0.04,500:0.04,503:0.04,reset:0.05,seed=11"


def test_faulty_multi_page_search_lands_every_tweet_once(pipeline: Settings) -> None:
    emu = emulator(data_files=tuple(sample_files()), faults=FAULTS,
                   rate_limits={"search_recent": EndpointLimit(10, window_s=1)})
    try:
        emu.add_synthetic(SyntheticSource(seed=3), count=1500)
        query = match_all_query(emu.state.store)
        expected = matching_ids(emu, query)
        api = with_api(pipeline, emu)
        progress = collect.Progress()
        with client(api, on_wait=progress.on_wait) as c, kafka.TweetProducer(api) as producer:
            collect_search(c, producer, SearchOptions(query, max_results=100),
                           state_dir=api.state_dir, progress=progress)
        faults = emu.fault_counts
    finally:
        emu.stop()
    assert len(expected) == 431 + 1500
    assert progress.ids == expected and progress.pages == 20
    assert sum(n for (scope, _), n in faults.items() if scope == "request") >= 4
    load_all(pipeline)
    assert merged_ids(pipeline) == expected
    assert count(pipeline, "tweet_merge") == 1931 and count(pipeline, "dead_letters") == 0
    assert stored_offsets_equal_log_end(pipeline)


def test_limit_and_follow_collect_only_what_is_new(pipeline: Settings) -> None:
    emu = emulator(data_files=tuple(sample_files()))
    try:
        api = with_api(pipeline, emu)
        first = collect.Progress()
        with client(api) as c, kafka.TweetProducer(api) as producer:
            collect_search(c, producer, SearchOptions("brexit", limit=25, max_results=10),
                           state_dir=api.state_dir, progress=first)
        assert first.tweets == 25 and first.pages == 3
        source = SyntheticSource(seed=9)
        new: set[str] = set()
        follow = collect.Progress()
        options = SearchOptions("the OR el OR le OR der OR o OR brexit", follow=True,
                                interval=0.2, max_results=100, limit=150)

        def add_tweets(pos: search_position.SearchPosition) -> None:
            if pos.passes < 2 and pos.done:
                new.update(emu.add_synthetic(source, count=20))

        with client(api) as c, kafka.TweetProducer(api) as producer:
            collect_search(c, producer, options, state_dir=api.state_dir, progress=follow,
                           on_page=add_tweets)
    finally:
        emu.stop()
    assert new <= follow.ids  # the follow passes picked up the tweets added later


def test_resume_after_kill_9_ends_with_the_same_tweets(pipeline: Settings, tmp_path: Path
                                                       ) -> None:
    emu = emulator(data_files=tuple(sample_files()))
    try:
        api = with_api(pipeline, emu)
        query = "brexit"
        expected = matching_ids(emu, query)
        options = SearchOptions(query, archive=True, max_results=10)
        state = search_position.position_file(api.state_dir, options.position())
        argv = [sys.executable, "-m", "tweetpipe.cli", "collect", "search", query, "--archive",
                "--max-results", "10"]
        env = {**os.environ, "TWEETPIPE_HOME": str(api.tweetpipe_home),
               "KAFKA_BOOTSTRAP_SERVERS": api.kafka_bootstrap_servers,
               "KAFKA_TOPIC": api.kafka_topic, "X_API_BASE_URL": emu.url,
               "TWITTER_BEARER_TOKEN": TOKEN}
        run = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not (state.exists() and search_position.load(state).pages >= 3):  # type: ignore[union-attr]
            assert run.poll() is None and time.monotonic() < deadline, run.stderr
            time.sleep(0.05)
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        killed_at = search_position.load(state)
        assert killed_at is not None and not killed_at.done and 3 <= killed_at.pages < 9
        resumed = subprocess.run([*argv, "--resume"], env=env, cwd=tmp_path,
                                 capture_output=True, timeout=120, check=False)
        assert resumed.returncode == 0, resumed.stderr.decode()
        final = search_position.load(state)
    finally:
        emu.stop()
    assert final is not None and final.done and final.pages >= len(expected) // 10
    load_all(pipeline)
    assert merged_ids(pipeline) == expected and len(expected) == 100
    assert count(pipeline, "tweet_merge") == len(expected)
