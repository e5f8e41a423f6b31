"""`tweetpipe`: one command line for every stage. Settings are built here, once, and passed down."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler

from tweetpipe import collect, db, report, services, stream
from tweetpipe.errors import ConfigError, TweetpipeError
from tweetpipe.load import LoadOptions, LoadStats, load
from tweetpipe.settings import Settings, load_settings

console = Console(stderr=True)
app = typer.Typer(help="X API v2 -> Kafka -> PostgreSQL -> PySpark, exactly once.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
services_app = typer.Typer(help="Start, stop and inspect the local Kafka and PostgreSQL.")
db_app = typer.Typer(help="Database schema.")
collect_app = typer.Typer(help="Collect tweets into Kafka.")
app.add_typer(services_app, name="services")
app.add_typer(db_app, name="db")
app.add_typer(collect_app, name="collect")


class State:
    settings: Settings | None = None


def settings() -> Settings:
    if State.settings is None:
        State.settings = load_settings()
    return State.settings


def stop_event() -> threading.Event:
    """Set on SIGINT/SIGTERM so long runs finish or roll back their batch and exit cleanly."""
    event = threading.Event()

    def handler(signum: int, _frame: Any) -> None:
        console.print(f"[yellow]{signal.Signals(signum).name}: finishing the current batch…")
        event.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return event


# ---- services ---------------------------------------------------------------------------------

@services_app.command("up")
def services_up() -> None:
    """Start Kafka and PostgreSQL (or use those already answering); idempotent."""
    with console.status("starting services (first run downloads jars from Maven Central)…"):
        statuses = services.up(settings())
    report.print_services(statuses)


@services_app.command("down")
def services_down() -> None:
    """Stop what `services up` started, and nothing else."""
    stopped = services.down(settings())
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing of ours was running")
    report.print_services(services.status(settings()))


@services_app.command("status")
def services_status() -> None:
    """Each service, its address and health."""
    report.print_services(services.status(settings()))


@services_app.command("jars")
def services_jars() -> None:
    """Fetch the JVM jars (Kafka broker, JDBC driver, Spark Kafka connector) into the cache."""
    from tweetpipe.services import jars

    for bundle in jars.BUNDLES:
        with console.status(f"resolving {bundle} jars from Maven Central…"):
            folder = jars.resolve(settings(), bundle)
        console.print(f"{bundle}: {len(list(folder.glob('*.jar')))} jars in {folder}")


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply the schema migrations the database lacks."""
    applied = db.migrate(settings())
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in applied)
    console.print(f"applied: {names}" if applied else "schema is up to date")


# ---- stages -----------------------------------------------------------------------------------

@collect_app.command("replay")
def collect_replay(files: Annotated[list[Path], typer.Argument(help="X API v2 JSONL files")]
                   ) -> None:
    """Produce every tweet of recorded X API v2 JSONL (pages or stream lines) to Kafka."""
    cfg = settings()
    stream.ensure_topic(cfg)
    with console.status("replaying…"), stream.TweetProducer(cfg) as producer:
        result = collect.replay(files, producer)
    report.print_collect(result, cfg.kafka_topic)


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
    cfg = settings()
    options = LoadOptions(batch_messages=batch, max_messages=max_messages,
                          idle_seconds=idle_seconds if until_idle else None,
                          instance_id=instance_id)
    with console.status("loading…") as live:
        def progress(stats: LoadStats) -> None:
            live.update(report.load_line(stats))

        stats = load(cfg, options, stop=stop_event(), on_progress=progress)
    console.print(report.load_line(stats))


@app.command("transform")
def transform_cmd(
    full: Annotated[bool, typer.Option(help="reprocess every row, not only new ones")] = False,
    master: Annotated[str | None, typer.Option(help="Spark master (default SPARK_MASTER)")] = None,
    stream_mode: Annotated[bool, typer.Option("--stream", help="Structured Streaming")] = False,
) -> None:
    """Transform new rows of tweet_merge into tweet_transformed with PySpark."""
    from tweetpipe.transform import job

    if stream_mode:
        from tweetpipe.transform import streaming

        streaming.run(settings(), master=master, stop=stop_event())
        return
    with console.status("transforming with Spark…"):
        result = job.run_batch(settings(), full=full, master=master)
    console.print(f"read {result.read} new rows (load_seq {result.watermark_from}→"
                  f"{result.watermark_to}); upserted {result.upserted} into tweet_transformed")


@app.command("status")
def status_cmd() -> None:
    """Services, per-partition lag, rows per table, dead letters by reason."""
    report.print_status(settings())


@app.command("demo")
def demo_cmd() -> None:
    """Start the services, collect the bundled sample, load, transform, and summarize."""
    from tweetpipe import demo

    demo.run(settings(), console)


# ---- entry point ------------------------------------------------------------------------------

def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(message)s",
                        handlers=[RichHandler(console=console, show_path=False)])
    logging.getLogger("tweetpipe").setLevel(logging.INFO)
    logging.getLogger("tweetpipe.kafka").setLevel(logging.ERROR)
    try:
        app()
    except ConfigError as exc:
        console.print(f"[red]configuration error:[/] {exc}")
        sys.exit(2)
    except TweetpipeError as exc:
        hint = " (temporary: retrying later may succeed)" if exc.retryable else ""
        console.print(f"[red]error:[/] {exc}{hint}")
        sys.exit(1)


if __name__ == "__main__":
    main()
