"""`collect search` on real Kafka + PostgreSQL against the emulator over loopback HTTP, with
429s (with and without headers), 5xx, TCP resets and tight rate-limit windows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tweetpipe import collect, kafka
from tweetpipe.collect import search_position
from tweetpipe.collect.search import SearchOptions, collect_search
from tweetpipe.settings import Settings
from tweetpipe_emulator import EndpointLimit, SyntheticSource
from tweetpipe_emulator.cli import match_all_query

from ..pipeline import count, load_all, settings_env, stored_offsets_equal_log_end
from ..waiting import reap, wait_until
from .kit import client, emulator, matching_ids, merged_ids, sample_files, with_api

pytestmark = pytest.mark.integration
FAULTS = "429:0.08,429nohdr:0.04,500:0.04,503:0.04,reset:0.05,seed=11"


def test_faulty_multi_page_search_lands_every_tweet_once(pipeline: Settings) -> None:
    """Full-archive search: the bundled recordings span 2010-2023, more than recent search's
    7-day window holds."""
    emu = emulator(data_files=tuple(sample_files()), faults=FAULTS,
                   rate_limits={"search_all": EndpointLimit(10, window_s=1)})
    try:
        emu.add_synthetic(SyntheticSource(seed=3), count=1500)
        query = match_all_query(emu.state.store)
        expected = matching_ids(emu, query)
        api = with_api(pipeline, emu)
        progress = collect.CollectStats()
        with client(api, on_wait=progress.on_wait) as c, kafka.TweetProducer(api) as producer:
            collect_search(c, producer, SearchOptions(query, archive=True, max_results=100),
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


def test_limit_stops_mid_page(pipeline: Settings) -> None:
    emu = emulator(data_files=tuple(sample_files()))
    try:
        api = with_api(pipeline, emu)
        first = collect.CollectStats()
        with client(api) as c, kafka.TweetProducer(api) as producer:
            collect_search(c, producer, SearchOptions("brexit", limit=25, max_results=10),
                           state_dir=api.state_dir, progress=first)
    finally:
        emu.stop()
    assert first.tweets == 25 and first.pages == 3 and len(first.ids) == 25


def test_follow_collects_the_tweets_that_appear_later_exactly_once(pipeline: Settings) -> None:
    """Pass 0 collects what matches; tweets added after it appear in pass 1 and only there;
    pass 2 finds nothing new. A follow that re-reads everything, or stops after the first
    pass, fails here."""
    emu = emulator(data_files=tuple(sample_files()))
    query = "the OR el OR le OR der OR o OR brexit"
    stop = threading.Event()
    watchdog = threading.Timer(60, stop.set)  # a hung follow loop ends (and fails) in time
    try:
        api = with_api(pipeline, emu)
        before = matching_ids(emu, query, "search_recent")
        new: set[str] = set()
        per_pass: dict[int, int] = {}  # tweets collected by the end of each pass
        progress = collect.CollectStats()
        source = SyntheticSource(seed=9)

        def after_page(pos: search_position.SearchPosition) -> None:
            if not pos.done:
                return
            per_pass[pos.passes] = progress.tweets
            if pos.passes == 0:
                added = set(emu.add_synthetic(source, count=40))
                new.update(added & matching_ids(emu, query, "search_recent"))
            elif pos.passes >= 2:
                stop.set()

        watchdog.start()
        with client(api, stop=stop) as c, kafka.TweetProducer(api) as producer:
            collect_search(c, producer, SearchOptions(query, follow=True, interval=0.1,
                                                      max_results=100),
                           state_dir=api.state_dir, progress=progress, stop=stop,
                           on_page=after_page)
    finally:
        watchdog.cancel()
        emu.stop()
    assert len(before) >= 100 and len(new) >= 20
    assert per_pass == {0: len(before), 1: len(before) + len(new),
                        2: len(before) + len(new)}, "each pass collects only what is new"
    assert progress.ids == before | new and progress.tweets == len(before | new)
    load_all(pipeline)
    assert merged_ids(pipeline) == before | new


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
        env = settings_env(api)
        run = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)

        def three_pages_saved() -> bool:
            assert run.poll() is None, run.stderr.read() if run.stderr else run.returncode
            saved = search_position.load(state) if state.exists() else None
            return saved is not None and saved.pages >= 3

        wait_until(three_pages_saved, 60, "the search saved no position after 3 pages")
        os.kill(run.pid, signal.SIGKILL)
        reap(run, 30, "the killed search did not exit")
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
