"""What the CLI prints: service health, collection and load progress, pipeline status."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from tweetpipe import db, services
from tweetpipe.collect import CollectReport
from tweetpipe.errors import TweetpipeError
from tweetpipe.load import lag
from tweetpipe.load.loader import LoadStats
from tweetpipe.settings import Settings

TABLES = ["tweet_merge", "tweet_author", "tweet_media", "tweet_place", "tweet_poll",
          "tweet_included", "dead_letters", "tweet_transformed", "trend_minute"]
out = Console()


def print_services(statuses: list[services.ServiceStatus]) -> None:
    table = Table("service", "address", "state", "healthy", "pid", "detail")
    for s in statuses:
        table.add_row(s.name, s.address, s.state, "yes" if s.healthy else "no",
                      str(s.pid or "-"), s.detail)
    out.print(table)


def print_collect(result: CollectReport, topic: str) -> None:
    out.print(f"{result.tweets} tweets from {result.payloads} payloads ({result.lines} lines) "
              f"sent to topic {topic}")
    if result.bad_lines:
        out.print(f"[yellow]{result.bad_lines} unparseable lines, sent on to the dead-letter "
                  "table:[/]")
        for problem in result.problems:
            out.print(f"  {problem}")


def load_line(stats: LoadStats) -> str:
    lag = "?" if stats.lag is None else str(stats.lag)
    retries = f", {stats.db_retries} database retries" if stats.db_retries else ""
    return (f"{stats.messages} messages → {stats.rows} rows, {stats.dead_letters} dead letters, "
            f"{stats.repaired} repaired, {stats.rate:,.0f} msg/s, lag {lag}{retries}")


def print_status(settings: Settings) -> None:
    print_services(services.status(settings))
    try:
        with db.connect(settings, autocommit=True) as conn:
            _print_counts(settings, conn)
            _print_dead_letters(conn)
            _print_lag(settings, conn)
    except TweetpipeError as exc:
        out.print(f"[yellow]database: {exc}")


def _print_counts(settings: Settings, conn: Any) -> None:
    existing = [name for name in TABLES
                if conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0]]
    table = Table("table", "rows")
    for name, count in db.table_counts(settings, existing).items():
        table.add_row(name, f"{count:,}")
    out.print(table)


def _print_dead_letters(conn: Any) -> None:
    if not conn.execute("SELECT to_regclass('dead_letters')").fetchone()[0]:
        return
    rows = conn.execute("SELECT reason, count(*) FROM dead_letters GROUP BY 1 ORDER BY 2 DESC"
                        ).fetchall()
    if rows:
        table = Table("dead-letter reason", "records")
        for reason, count in rows:
            table.add_row(reason, str(count))
        out.print(table)


def _print_lag(settings: Settings, conn: Any) -> None:
    if not conn.execute("SELECT to_regclass('kafka_offsets')").fetchone()[0]:
        return
    try:
        found = lag.topic_positions(settings, conn)
    except TweetpipeError:
        out.print("[yellow]Kafka unreachable: lag unknown")
        return
    table = Table("partition", "log end", "loaded up to", "lag")
    for p in found:
        table.add_row(str(p.partition), str(p.log_end), str(p.loaded_to), str(p.lag))
    out.print(f"topic {settings.kafka_topic}, group {settings.kafka_group}")
    out.print(table)
