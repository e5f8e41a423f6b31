"""The Python API (`tweetpipe.Pipeline`): settings, refusals, status, reads, and the stages on
real Kafka + PostgreSQL (collect from the emulator, replay, load); the CLI goes through it.
Its transform runs in tests/test_notebook.py (Spark is slow)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

import tweetpipe
from tweetpipe import api, cli
from tweetpipe.api import Pipeline
from tweetpipe.demo import distinct_ids, sample_files
from tweetpipe.errors import ConfigError
from tweetpipe.load.loader import LoadStats
from tweetpipe.services import process
from tweetpipe.settings import Settings
from tweetpipe_emulator import SyntheticSource

from .collect.kit import emulator, matching_ids, with_api
from .data import sample
from .isolation import suite_settings
from .pipeline import count, query
from .waiting import join, wait_until

integration = pytest.mark.integration


# ---- without services ---------------------------------------------------------------------------

def test_package_exports_the_api() -> None:
    from tweetpipe import settings

    assert tweetpipe.Pipeline is api.Pipeline and tweetpipe.Status is api.Status
    assert tweetpipe.Settings is settings.Settings
    assert tweetpipe.load_settings is settings.load_settings
    with pytest.raises(AttributeError):
        _ = tweetpipe.Nothing  # type: ignore[attr-defined]


def test_pipeline_builds_its_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.setenv("KAFKA_TOPIC", "notebook-topic")
    monkeypatch.setenv("DB_SCHEMA", "notebook_schema")
    monkeypatch.setenv("DB_PASS", "very-secret-password")
    pipe = Pipeline()
    assert pipe.settings.kafka_topic == "notebook-topic"
    assert pipe.settings.db_schema == "notebook_schema"
    assert "notebook-topic" in repr(pipe) and "very-secret-password" not in repr(pipe)
    given = suite_settings(KAFKA_TOPIC="given")
    assert Pipeline(given).settings is given


def test_calls_that_would_never_return_or_do_nothing_are_refused() -> None:
    pipe = Pipeline(suite_settings())
    with pytest.raises(ConfigError, match="unbounded"):
        pipe.collect_stream()
    with pytest.raises(ConfigError, match="unbounded"):
        pipe.transform_stream()
    with pytest.raises(ConfigError, match="file"):
        pipe.replay()
    with pytest.raises(ConfigError, match="minute, hashtag, mention"):
        pipe.trends("weekly")  # type: ignore[arg-type]


def test_status_without_a_database_says_why(tmp_path: Any) -> None:
    db_port, kafka_port = process.free_ports(2)
    pipe = Pipeline(suite_settings(TWEETPIPE_HOME=str(tmp_path), DB_PORT=db_port,
                                   KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{kafka_port}"))
    status = pipe.status()
    assert [s.healthy for s in status.services] == [False, False]
    assert status.tables is None and status.partitions is None and status.lag is None
    assert status.database_error is not None and str(db_port) in status.database_error
    cli.State.settings = pipe.settings
    try:
        shown = CliRunner().invoke(cli.app, ["status"])
    finally:
        cli.State.settings = None
    assert shown.exit_code == 0 and "database:" in shown.output


# ---- on real services ---------------------------------------------------------------------------

@integration
def test_replay_load_and_status(pipeline: Settings) -> None:
    pipe = Pipeline(pipeline)
    files = sample_files()
    expected = distinct_ids(files)
    empty = pipe.status()
    assert empty.tables is not None and empty.tables["tweet_merge"] == 0
    assert empty.lag == 0 and empty.dead_letters == {}

    report = pipe.replay(*files)
    assert report.tweets >= len(expected) and report.bad_lines >= 1
    produced = pipe.status()
    # bad lines travel on, raw; the 3 errors of withheld.jsonl:5 naming no tweet, as 1 message
    assert report.api_errors == 3
    assert produced.lag == report.tweets + report.bad_lines + 1

    batches: list[LoadStats] = []
    stats = pipe.load(idle_seconds=1.0, on_progress=batches.append)
    assert batches and batches[-1] is stats and stats.messages == produced.lag

    status = pipe.status()
    assert status.tables is not None
    assert status.tables["tweet_merge"] == len(expected) == count(pipeline, "tweet_merge")
    assert sum(status.dead_letters.values()) == report.bad_lines == status.tables["dead_letters"]
    assert status.dead_letters == dict(query(
        pipeline, "SELECT reason, count(*) FROM dead_letters GROUP BY 1"))
    assert status.partitions is not None and len(status.partitions) == pipeline.kafka_partitions
    assert status.lag == 0 and sum(p.log_end for p in status.partitions) == produced.lag
    assert (status.topic, status.group) == (pipeline.kafka_topic, pipeline.kafka_group)
    assert status.kafka_error is None and status.database_error is None

    newest = pipe.tweets(5)
    assert len(newest) == 5 and list(newest.columns) == list(api.TWEET_COLUMNS)
    assert newest["created_at"].is_monotonic_decreasing
    everything = pipe.tweets(None, columns=["tweet_id", "text"])
    assert {str(i) for i in everything["tweet_id"]} == expected
    counted = pipe.query("SELECT count(*) AS n FROM tweet_merge WHERE lang = %(lang)s",
                         {"lang": "en"})
    assert counted["n"][0] == count(pipeline, "tweet_merge", "lang = 'en'") > 0
    assert pipe.transformed().empty and pipe.trends().empty and pipe.top_hashtags().empty


@integration
def test_the_cli_commands_go_through_the_api(pipeline: Settings,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    calls = spy_on(monkeypatch, ("replay", "load", "status"))
    runner = CliRunner()
    cli.State.settings = pipeline
    try:
        replayed = runner.invoke(cli.app, ["collect", "replay", str(sample("brexit"))])
        loaded = runner.invoke(cli.app, ["load", "--until-idle", "--idle-seconds", "1"])
        shown = runner.invoke(cli.app, ["status"])
    finally:
        cli.State.settings = None
    assert calls == ["replay", "load", "status"]
    assert replayed.exit_code == 0 and "100 tweets from" in replayed.output
    assert loaded.exit_code == 0 and "100 messages → 100 rows" in loaded.output
    assert shown.exit_code == 0, shown.output
    assert f"topic {pipeline.kafka_topic}, group {pipeline.kafka_group}" in shown.output
    assert count(pipeline, "tweet_merge") == 100


def spy_on(monkeypatch: pytest.MonkeyPatch, names: tuple[str, ...]) -> list[str]:
    """Record each call of these `Pipeline` methods, by name, in the list returned."""
    calls: list[str] = []
    for name in names:
        original: Callable[..., Any] = getattr(Pipeline, name)

        def recorded(self: Pipeline, *args: Any, _name: str = name,
                     _original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Pipeline, name, recorded)
    return calls


def feed_stream(emu: Any, tweets: int, seed: int) -> threading.Thread:
    """Once a NEW client is connected to the sample stream (an earlier connection may not be
    closed yet), add `tweets` synthetic tweets."""
    stream = emu.stream_stats("stream_sample")
    before = stream.connections

    def feed() -> None:
        wait_until(lambda: stream.connections > before and stream.active >= 1, 60,
                   "nothing connected to the sample stream")
        emu.add_synthetic(SyntheticSource(seed=seed), count=tweets)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    return feeder


@integration
def test_collect_search_and_stream_from_the_emulator(pipeline: Settings,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    emu = emulator(data_files=(sample("brexit"),), replay_recorded_streams=False)
    try:
        api_settings = with_api(pipeline, emu)
        pipe = Pipeline(api_settings)
        seen: list[int] = []
        searched = pipe.collect_search("brexit", limit=50, max_results=10, backoff_scale=0.01,
                                       on_progress=lambda p: seen.append(p.tweets))
        assert searched.tweets == len(searched.ids) == 50 and searched.pages == 5
        assert seen and seen[-1] == 50
        assert searched.ids <= matching_ids(emu, "brexit")

        feeder = feed_stream(emu, 120, seed=8)
        streamed = pipe.collect_stream(sample=True, limit=120, seconds=90, backoff_scale=0.01)
        join(feeder, 30, "the feeder did not finish")
        served = set(emu.stream_stats("stream_sample").served_ids)
        assert len(streamed.ids) == 120 and streamed.ids == served

        # the commands, in process (a plain event instead of signal handlers)
        calls = spy_on(monkeypatch, ("collect_search", "collect_stream"))
        monkeypatch.setattr("tweetpipe.cli.collect.stop_event", threading.Event)
        cli.State.settings = api_settings
        runner = CliRunner()
        searched_cli = runner.invoke(cli.app, ["collect", "search", "brexit", "--limit", "20",
                                               "--max-results", "10", "--backoff-scale", "0.01"])
        feeder = feed_stream(emu, 40, seed=9)
        streamed_cli = runner.invoke(cli.app, ["collect", "stream", "--sample", "--limit", "40",
                                               "--duration", "90", "--backoff-scale", "0.01"])
        join(feeder, 30, "the feeder did not finish")
        served_cli = set(emu.stream_stats("stream_sample").served_ids) - served
    finally:
        emu.stop()
    assert calls == ["collect_search", "collect_stream"]
    assert searched_cli.exit_code == 0 and "20 distinct tweets → topic" in searched_cli.output
    assert streamed_cli.exit_code == 0 and "40 distinct tweets → topic" in streamed_cli.output
    assert len(served_cli) == 40
    pipe.load(idle_seconds=1.0)
    assert count(pipeline, "tweet_merge") == 50 + 120 + 40  # the CLI's search: the same 20


@pytest.fixture(autouse=True)
def _no_cli_settings_left() -> Iterator[None]:
    yield
    cli.State.settings = None
