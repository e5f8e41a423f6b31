"""What the CLI prints: service health, collection and load progress, pipeline status."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from tweetpipe import services
from tweetpipe.api import Status
from tweetpipe.collect import CollectStats

out = Console()


def print_services(statuses: list[services.ServiceStatus]) -> None:
    table = Table("service", "address", "state", "healthy", "pid", "detail")
    for s in statuses:
        table.add_row(s.name, s.address, s.state, "yes" if s.healthy else "no",
                      str(s.pid or "-"), s.detail)
    out.print(table)
    under = [s.under_replicated for s in statuses if s.under_replicated is not None]
    if under:
        color = "yellow" if max(under) else "green"
        out.print(f"[{color}]under-replicated Kafka partitions: {max(under)}[/]")


def print_collect(result: CollectStats, topic: str) -> None:
    out.print(f"{result.tweets} tweets from {result.payloads} payloads ({result.lines} lines) "
              f"sent to topic {topic}")
    if result.bad_lines:
        out.print(f"[yellow]{result.bad_lines} unparseable lines, sent on to the dead-letter "
                  "table:[/]")
        for problem in result.problems:
            out.print(f"  {problem}")


def rows_read(read: int, *, full: bool) -> str:
    """What a transform read: with --full every row again, else only the new ones."""
    return f"re-read {read} rows (full)" if full else f"read {read} new rows"


def print_status(status: Status) -> None:
    print_services(status.services)
    if status.tables is not None:
        table = Table("table", "rows")
        for name, count in status.tables.items():
            table.add_row(name, f"{count:,}")
        out.print(table)
    if status.dead_letters:
        table = Table("dead-letter reason", "records")
        for reason, count in status.dead_letters.items():
            table.add_row(reason, str(count))
        out.print(table)
    if status.kafka_error is not None:
        out.print("[yellow]Kafka unreachable: lag unknown")
    elif status.partitions is not None:
        table = Table("partition", "log end", "loaded up to", "lag")
        for p in status.partitions:
            table.add_row(str(p.partition), str(p.log_end), str(p.loaded_to), str(p.lag))
        out.print(f"topic {status.topic}, group {status.group}")
        out.print(table)
    if status.database_error is not None:
        out.print(f"[yellow]database: {status.database_error}")
