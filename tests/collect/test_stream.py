"""`collect stream` and `rules` on real Kafka + PostgreSQL against the emulator: thousands of
synthetic tweets through stalls, operational disconnects, truncated lines and refused
connections land exactly once; rules round-trip through the CLI."""

from __future__ import annotations

import threading
import time

import pytest
from typer.testing import CliRunner

from tweetpipe import cli, collect
from tweetpipe.collect import StreamCollector, StreamOptions
from tweetpipe.collect.synthetic import WORDS, SyntheticSource
from tweetpipe.services import kafka_broker
from tweetpipe.settings import Settings
from tweetpipe.xapi import Backoff

from ..pipeline import count, load_all, query
from ..waiting import join, wait_until
from .kit import client, emulator, merged_ids, with_api

pytestmark = pytest.mark.integration
FAULTS = "stall:0.001,disconnect:0.002,truncate:0.002,500:0.05,503:0.03,429nohdr:0.02,seed=5"


def feed(emu: object, total: int, stop: threading.Event) -> None:
    source = SyntheticSource(seed=21)
    for _ in range(total // 50):
        emu.add_synthetic(source, count=50)  # type: ignore[attr-defined]
        time.sleep(0.05)
    stop.set()


def test_faulty_stream_lands_every_delivered_tweet_once(pipeline: Settings) -> None:
    emu = emulator(faults=FAULTS, stall_s=1.0, stream_connections=2,
                   replay_recorded_streams=False)
    try:
        api = with_api(pipeline, emu)
        runner = CliRunner()
        cli.State.settings = api
        for lang, words in WORDS.items():
            # X refuses a bare "and"/"or" as a keyword: quoted, it is one
            rule = " OR ".join(f'"{w}"' if w.lower() in ("and", "or") else w for w in words)
            added = runner.invoke(cli.app, ["rules", "add", rule, "--tag", lang])
            assert added.exit_code == 0, added.output
        fed, progress = threading.Event(), collect.CollectStats()
        options = StreamOptions(backoff=Backoff(scale=0.01))
        with client(api) as c, collect.SpoolProducer(api) as producer:
            collector = StreamCollector(c, producer, options, state_dir=api.state_dir,
                                        progress=progress, stop=threading.Event())
            runner_thread = threading.Thread(target=collector.run, daemon=True)
            runner_thread.start()
            feed(emu, 4000, fed)
            time.sleep(1.5)
            collector.stop.set()
            join(runner_thread, 30, lambda: f"the stream collector did not stop: {progress}")
        stats, faults = emu.stream_stats("stream_search"), emu.fault_counts
    finally:
        emu.stop()
        cli.State.settings = None
    served = stats.served_ids
    print(f"served {len(served)}, collected {len(progress.ids)}, faults {faults}, "
          f"reconnects {progress.reconnects}, stalls {progress.stalls}, {stats}"[:600])
    assert len(progress.ids) >= 2500 and progress.ids <= served
    # the emulator writes the line that follows a stall into the socket the collector already
    # closed (it cannot know): at most one such tweet per stall never reaches us
    assert len(served - progress.ids) <= faults.get(("stream", "stall"), 0)
    assert progress.reconnects >= 3 and progress.bad_lines >= 1
    assert progress.bad_lines <= faults[("stream", "truncate")]
    load_all(pipeline)
    assert merged_ids(pipeline) == progress.ids
    assert count(pipeline, "tweet_merge") == len(progress.ids)
    assert count(pipeline, "dead_letters") == progress.bad_lines
    assert count(pipeline, "tweet_merge", "matching_rules IS NULL") == 0
    (tags,) = query(pipeline, "SELECT count(DISTINCT r->>'tag') FROM tweet_merge,"
                              " jsonb_array_elements(matching_rules) r")
    assert tags[0] >= 5
    print(f"served {len(served)}, collected {len(progress.ids)}, faults {faults}, "
          f"reconnects {progress.reconnects}, stalls {progress.stalls}")


def test_rules_round_trip_through_the_cli(pipeline: Settings) -> None:
    emu = emulator()
    runner = CliRunner()
    try:
        cli.State.settings = with_api(pipeline, emu)
        assert runner.invoke(cli.app, ["rules", "add", "cats", "--tag", "c"]).exit_code == 0
        assert runner.invoke(cli.app, ["rules", "add", "dogs", "--dry-run"]).exit_code == 0
        assert runner.invoke(cli.app, ["rules", "add", "dogs"]).exit_code == 0
        bad = runner.invoke(cli.app, ["rules", "add", "(broken"])
        assert bad.exit_code != 0 and "not added" in str(bad.exception)
        assert {r.value for r in emu.state.rules.snapshot()} == {"cats", "dogs"}
        listed = runner.invoke(cli.app, ["rules", "list"])
        assert listed.exit_code == 0
        cats = next(r.id for r in emu.state.rules.snapshot() if r.value == "cats")
        dry = runner.invoke(cli.app, ["rules", "delete", cats, "--dry-run"])
        assert dry.exit_code == 0 and len(emu.state.rules.snapshot()) == 2
        assert runner.invoke(cli.app, ["rules", "delete", cats]).exit_code == 0
        assert {r.value for r in emu.state.rules.snapshot()} == {"dogs"}
        assert runner.invoke(cli.app, ["rules", "delete", "--all"]).exit_code == 0
        assert emu.state.rules.snapshot() == []
    finally:
        emu.stop()
        cli.State.settings = None


def test_kafka_down_mid_stream_loses_nothing(own_kafka: Settings, pipeline: Settings) -> None:
    """The broker is stopped while the stream runs: lines wait in the journal, none is lost."""

    emu = emulator(replay_recorded_streams=False)
    source, progress = SyntheticSource(seed=41), collect.CollectStats()
    try:
        api = with_api(pipeline, emu)
        options = StreamOptions(sample=True, max_in_flight=200, backoff=Backoff(scale=0.01))
        with client(api) as c, collect.SpoolProducer(api) as producer:
            collector = StreamCollector(c, producer, options, state_dir=api.state_dir,
                                        progress=progress, stop=threading.Event())
            thread = threading.Thread(target=collector.run, daemon=True)
            thread.start()
            wait_until(lambda: emu.stream_stats("stream_sample").active == 1, 60,
                       "the collector never connected to the sample stream")  # live from here
            emu.add_synthetic(source, count=500)
            wait_until(lambda: progress.tweets >= 500, 60,
                       lambda: f"{progress} {emu.stream_stats('stream_sample')}"[:800])
            assert kafka_broker.down(own_kafka)
            for _ in range(20):
                emu.add_synthetic(source, count=100)
                time.sleep(0.05)
            # the HTTP read never waited for Kafka
            wait_until(lambda: progress.lines >= 2500, 60,
                       lambda: f"only {progress.lines} lines read while Kafka was down")
            assert collector.spool.backlog > 0  # lines are waiting in the journal
            kafka_broker.up(own_kafka)
            time.sleep(2.0)
            collector.stop.set()
            join(thread, 120, lambda: f"the stream collector did not stop: {progress}")
        served = emu.stream_stats("stream_sample").served_ids
    finally:
        emu.stop()
        kafka_broker.up(own_kafka)
    assert len(served) == 2500 and progress.ids == served
    load_all(pipeline)
    assert merged_ids(pipeline) == served
    assert count(pipeline, "tweet_merge") == 2500

