"""What the CLI prints: service health, collection and load progress, pipeline status."""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from rich.console import Console
from rich.table import Table

from tweetpipe import db, services, sink
from tweetpipe.collect import CollectReport
from tweetpipe.errors import TweetpipeError
from tweetpipe.load import LoadStats
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
        positions = partition_positions(settings, conn)
    except KafkaException:
        out.print("[yellow]Kafka unreachable: lag unknown")
        return
    table = Table("partition", "log end", "loaded up to", "lag")
    for partition, (end, done) in positions.items():
        table.add_row(str(partition), str(end), str(done), str(max(end - done, 0)))
    out.print(f"topic {settings.kafka_topic}, group {settings.kafka_group}")
    out.print(table)


def partition_positions(settings: Settings, conn: Any) -> dict[int, tuple[int, int]]:
    """Per partition of the topic: (log end offset, next offset the group stored in PostgreSQL)."""
    ends = log_end_offsets(settings)
    stored = sink.stored_offsets(conn, settings.kafka_group, settings.kafka_topic, list(ends))
    return {p: (end, stored.get(p, 0)) for p, end in sorted(ends.items())}


def loaded_to_log_end(settings: Settings) -> bool:
    """True when the group's stored offsets equal the log end of every partition."""
    with db.connect(settings, autocommit=True) as conn:
        return all(end == done for end, done in partition_positions(settings, conn).values())


def log_end_offsets(settings: Settings, topic: str | None = None) -> dict[int, int]:
    """High watermark of every partition of the topic."""
    from confluent_kafka import Consumer

    name = topic or settings.kafka_topic
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap_servers})
    meta = admin.list_topics(name, timeout=10).topics.get(name)
    if meta is None or meta.error is not None:
        return {}
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap_servers,
                         "group.id": "tweetpipe-status", "enable.auto.commit": False})
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(name, p), timeout=10)[1]
                for p in meta.partitions}
    finally:
        consumer.close()
