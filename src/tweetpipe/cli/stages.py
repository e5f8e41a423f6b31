"""`tweetpipe load`, `transform`, `status` and `demo`."""

from __future__ import annotations

import signal
import sys
from typing import Annotated

import typer

from tweetpipe import progress
from tweetpipe.api import Pipeline
from tweetpipe.cli import render
from tweetpipe.cli.common import app, console, settings, stop_event
from tweetpipe.load.loader import LoadStats


@app.command("load")
def load_cmd(
    until_idle: Annotated[
        bool, typer.Option(help="exit once the topic is idle and drained")] = False,
    idle_seconds: Annotated[float, typer.Option(help="idle time for --until-idle")] = 3.0,
    max_messages: Annotated[int | None, typer.Option(help="stop after N messages")] = None,
    batch: Annotated[int, typer.Option(help="messages per batch at most")] = 5000,
    instance_id: Annotated[str | None, typer.Option(
        help="static group membership id: a restarted loader keeps its partitions")] = None,
) -> None:
    """Consume the topic into PostgreSQL exactly once (rows and offsets in one transaction)."""
    stats = LoadStats()
    with progress.show(console, stats):
        Pipeline(settings()).load(
            until_idle, idle_seconds=idle_seconds, max_messages=max_messages, batch=batch,
            instance_id=instance_id, stop=stop_event(), stats=stats)


@app.command("transform")
def transform_cmd(
    full: Annotated[bool, typer.Option(help="reprocess every row, not only new ones")] = False,
    master: Annotated[str | None, typer.Option(help="Spark master (default SPARK_MASTER)")] = None,
    stream_mode: Annotated[bool, typer.Option("--stream", help="Structured Streaming")] = False,
    idle_seconds: Annotated[float | None, typer.Option(
        help="with --stream: exit after this long without input")] = None,
    crash_after_stage: Annotated[bool, typer.Option(hidden=True)] = False,
) -> None:
    """Transform new rows of tweet_merge into tweet_transformed with PySpark."""
    pipe = Pipeline(settings())
    if stream_mode:
        stats = pipe.transform_stream(master=master, stop=stop_event(),
                                      idle_seconds=idle_seconds)
        p50, p99 = stats.percentiles()
        console.print(f"{stats.batches} micro-batches, {stats.rows} rows upserted "
                      f"({stats.skipped} replayed batches skipped); latency Kafka → row "
                      f"p50 {p50:.2f}s p99 {p99:.2f}s")
        return
    crash = _kill_self if crash_after_stage else None  # for the crash test: kill -9 mid-job
    with progress.show(console, progress.Phase("transforming with Spark…"), final=False):
        result = pipe.transform(full=full, master=master, before_commit=crash)
    console.print(f"{render.rows_read(result.read, full=full)} (load_seq {result.watermark_from}→"
                  f"{result.watermark_to}); upserted {result.upserted} into tweet_transformed")


def _kill_self() -> None:
    import os

    os.kill(os.getpid(), signal.SIGKILL)


@app.command("status")
def status_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="the same facts as JSON, for scripts "
                                          "(with each service's pid and a running `tweetpipe "
                                          "run`'s components)")] = False,
) -> None:
    """Services, per-partition lag, rows per table, dead letters by reason."""
    if as_json:
        import orjson

        from tweetpipe.run import live

        snapshot = live.snapshot_of(settings())
        sys.stdout.write(orjson.dumps(snapshot, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    render.print_status(Pipeline(settings()).status())


@app.command("demo")
def demo_cmd(
    query: Annotated[str | None, typer.Option(help="search query for the real X API")] = None,
    limit: Annotated[int, typer.Option(help="tweets to collect from the real X API")] = 500,
) -> None:
    """Start the services, collect (X API, or the emulator serving the bundled sample), load,
    transform, and summarize."""
    from tweetpipe import demo

    demo.run(settings(), console, query=query, limit=limit)
