"""`tweetpipe collect …`, `tweetpipe rules …` and `tweetpipe emulator`."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from tweetpipe import collect, progress
from tweetpipe.api import Pipeline
from tweetpipe.cli import render
from tweetpipe.cli.common import app, console, settings, stop_event
from tweetpipe.errors import ConfigError
from tweetpipe.settings import Settings

collect_app = typer.Typer(help="Collect tweets into Kafka.")
rules_app = typer.Typer(help="Filtered-stream rules (X API v2).", no_args_is_help=True)
app.add_typer(collect_app, name="collect")
app.add_typer(rules_app, name="rules")


@collect_app.command("replay")
def collect_replay(files: Annotated[list[Path], typer.Argument(help="X API v2 JSONL files")]
                   ) -> None:
    """Produce every tweet of recorded X API v2 JSONL (pages or stream lines) to Kafka."""
    cfg = settings()
    stats = collect.CollectStats()
    with progress.show(console, stats, final=False):
        Pipeline(cfg).replay(*files, stats=stats)
    render.print_collect(stats, cfg.kafka_topic)


@collect_app.command("search")
def collect_search_cmd(
    query: Annotated[str, typer.Argument(help="X search query, e.g. 'python lang:en'")],
    archive: Annotated[bool, typer.Option(help="full-archive search (/2/tweets/search/all)")
                       ] = False,
    since_id: Annotated[str | None, typer.Option(help="only tweets newer than this id")] = None,
    until_id: Annotated[str | None, typer.Option(help="only tweets older than this id")] = None,
    start_time: Annotated[str | None, typer.Option(help="RFC 3339, e.g. 2024-01-01T00:00:00Z")
                          ] = None,
    end_time: Annotated[str | None, typer.Option(help="RFC 3339")] = None,
    max_results: Annotated[int | None, typer.Option(help="tweets per page")] = None,
    limit: Annotated[int | None, typer.Option(help="stop after N tweets")] = None,
    resume: Annotated[bool, typer.Option(help="continue from the saved position")] = False,
    follow: Annotated[bool, typer.Option(help="keep polling for newer tweets")] = False,
    interval: Annotated[float, typer.Option(help="seconds between --follow polls")] = 60.0,
    backoff_scale: Annotated[float, typer.Option(hidden=True)] = 1.0,
) -> None:
    """Search recent (or --archive) tweets into Kafka, page by page; resumable."""
    from tweetpipe.collect import search_position

    options = collect.SearchOptions(query, archive, since_id, until_id, start_time, end_time,
                                    max_results, limit, resume, follow, interval)
    cfg = settings()
    stats = collect.CollectStats()
    with progress.show(console, stats):
        Pipeline(cfg).collect_search(options, stats=stats, backoff_scale=backoff_scale,
                                     stop=stop_event())
    position = search_position.position_file(cfg.state_dir, options.position())
    console.print(f"{len(stats.ids or ())} distinct tweets → topic {cfg.kafka_topic}; "
                  f"position saved in {position} (use --resume to continue)")


@collect_app.command("counts")
def collect_counts_cmd(
    query: Annotated[str, typer.Argument(help="X search query, e.g. 'python lang:en'")],
    archive: Annotated[bool, typer.Option(help="full-archive counts (/2/tweets/counts/all)")
                       ] = False,
    granularity: Annotated[str, typer.Option(help="buckets of: day, hour or minute")] = "day",
    start_time: Annotated[str | None, typer.Option(help="RFC 3339, e.g. 2024-01-01T00:00:00Z")
                          ] = None,
    end_time: Annotated[str | None, typer.Option(help="RFC 3339")] = None,
    since_id: Annotated[str | None, typer.Option(help="only tweets newer than this id")] = None,
    until_id: Annotated[str | None, typer.Option(help="only tweets older than this id")] = None,
    empty: Annotated[bool, typer.Option(help="also list the buckets without tweets")] = False,
) -> None:
    """How many tweets QUERY matches per day (hour, minute): size a collection before running
    `collect search` (counts do not use up the tweet cap; nothing goes to Kafka)."""
    from rich.table import Table

    frame = Pipeline(settings()).counts(query, archive=archive, granularity=granularity,
                                        start_time=start_time, end_time=end_time,
                                        since_id=since_id, until_id=until_id, stop=stop_event())
    shown = frame if empty else frame[frame.tweet_count > 0]
    table = Table("start", "end", title=f"tweets per {granularity}")
    table.add_column("tweets", justify="right")
    for row in shown.itertuples(index=False):
        table.add_row(f"{row.start:%Y-%m-%d %H:%M:%S}", f"{row.end:%Y-%m-%d %H:%M:%S}",
                      f"{row.tweet_count:,}")
    if len(shown):
        render.out.print(table)
    total = int(frame.tweet_count.sum())
    window = (f" between {frame.start.iloc[0]:%Y-%m-%d %H:%M:%S} and "
              f"{frame.end.iloc[-1]:%Y-%m-%d %H:%M:%S} UTC") if len(frame) else ""
    render.out.print(f"{total:,} tweets match {query!r} "
                     f"({'full archive' if archive else 'recent'}){window}")


@collect_app.command("stream")
def collect_stream_cmd(
    sample: Annotated[bool, typer.Option(help="the 1% sample stream, not the filtered one")
                      ] = False,
    backfill_minutes: Annotated[int | None, typer.Option(help="recover up to 5 minutes")] = None,
    limit: Annotated[int | None, typer.Option(help="stop after N tweets")] = None,
    duration: Annotated[float | None, typer.Option(help="stop after S seconds")] = None,
    stall_timeout: Annotated[float, typer.Option(help="seconds without a byte = stall")] = 20.0,
    backoff_scale: Annotated[float, typer.Option(hidden=True)] = 1.0,
) -> None:
    """Stream tweets into Kafka, reconnecting by X's rules; spills to a journal if Kafka lags."""
    cfg = settings()
    stats = collect.CollectStats()
    with progress.show(console, stats):
        Pipeline(cfg).collect_stream(
            sample=sample, backfill_minutes=backfill_minutes, limit=limit, seconds=duration,
            stall_timeout=stall_timeout, backoff_scale=backoff_scale, stop=stop_event(),
            stats=stats)
    console.print(f"{len(stats.ids or ())} distinct tweets → topic {cfg.kafka_topic}")


def _client(cfg: Settings, stats: collect.CollectStats | None = None, *,
            stall_timeout: float = 20.0, backoff_scale: float = 1.0,
            stop: threading.Event | None = None) -> Any:
    from tweetpipe import xapi

    backoff = xapi.Backoff(scale=backoff_scale, http_base=1.0, http_cap=60.0,
                           too_many_base=15.0)
    options = xapi.ClientOptions(stall_timeout=stall_timeout, backoff=backoff)
    return xapi.XClient(settings=cfg, options=options, stop=stop,
                        on_wait=stats.on_wait if stats else None)


@rules_app.command("list")
def rules_list() -> None:
    """The filtered stream's rules."""
    from tweetpipe.collect import rules

    with _client(settings()) as client:
        found = rules.list_rules(client)
    from rich.table import Table

    table = Table("id", "value", "tag", title=f"{len(found)} rules")
    for rule in found:
        table.add_row(rule.id, rule.value, rule.tag or "")
    render.out.print(table)


@rules_app.command("add")
def rules_add(
    value: Annotated[str, typer.Argument(help="rule, e.g. 'python lang:en -is:retweet'")],
    tag: Annotated[str | None, typer.Option(help="label kept on matching tweets")] = None,
    dry_run: Annotated[bool, typer.Option(help="validate only")] = False,
) -> None:
    """Add one filtered-stream rule."""
    from tweetpipe.collect import rules

    with _client(settings()) as client:
        result = rules.add_rules(client, [(value, tag)], dry_run=dry_run)
    for rule in result.rules:
        render.out.print(f"{'would add' if dry_run else 'added'} {rule.id}: {rule.value}")
    if dry_run and not result.rules:
        render.out.print(f"valid: {result.summary}")


@rules_app.command("delete")
def rules_delete(
    ids: Annotated[list[str] | None, typer.Argument(help="rule ids")] = None,
    all_rules: Annotated[bool, typer.Option("--all", help="delete every rule")] = False,
    dry_run: Annotated[bool, typer.Option(help="show what would be deleted")] = False,
) -> None:
    """Delete rules by id, or --all."""
    from tweetpipe.collect import rules

    if not ids and not all_rules:
        raise ConfigError("name the rule ids to delete, or pass --all")
    with _client(settings()) as client:
        result = (rules.delete_all(client, dry_run=dry_run) if all_rules
                  else rules.delete_rules(client, ids or [], dry_run=dry_run))
    summary = result.summary or {}
    verb = "would delete" if dry_run else "deleted"
    render.out.print(f"{verb} {summary.get('deleted', 0)} rules "
                     f"({summary.get('not_deleted', 0)} not found)")


@app.command("emulator", context_settings={"allow_extra_args": True,
                                          "ignore_unknown_options": True})
def emulator_cmd(ctx: typer.Context) -> None:
    """Serve a local X API v2 emulator (bundled sample unless --data/--synthetic); the same as
    `tweetpipe-emulator`, whose --help lists the options."""
    import os
    import sys

    argv = [sys.executable, "-m", "tweetpipe_emulator", *ctx.args]
    os.execv(sys.executable, argv)
