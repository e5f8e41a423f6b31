"""Small helpers shared by the integration tests: produce, load, count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from psycopg import sql

from tweetpipe import collect, db, kafka
from tweetpipe.load.lag import loaded_to_log_end
from tweetpipe.load.loader import Loader, LoadOptions, LoadStats
from tweetpipe.settings import Settings

from .isolation import cli_env


def replay(settings: Settings, files: list[Path]) -> collect.CollectStats:
    with kafka.TweetProducer(settings) as producer:
        return collect.replay(files, producer)


def produce_raw(settings: Settings, values: list[tuple[str | None, bytes]]) -> None:
    with kafka.TweetProducer(settings) as producer:
        for key, value in values:
            producer.send(key, value)


def load_all(settings: Settings, **options: Any) -> LoadStats:
    opts = LoadOptions(idle_seconds=options.pop("idle_seconds", 1.5), **options)
    return Loader(settings, opts).run()


def count(settings: Settings, table: str, where: str = "true") -> int:
    with db.connect(settings, autocommit=True) as conn:
        query = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
            sql.Identifier(table), sql.SQL(where))  # type: ignore[arg-type]
        row = conn.execute(query).fetchone()
        return int(row[0]) if row else 0


def query(settings: Settings, text: str, *params: Any) -> list[tuple[Any, ...]]:
    with db.connect(settings, autocommit=True) as conn:
        return conn.execute(text.encode(), params or None).fetchall()


def stored_offsets_equal_log_end(settings: Settings) -> bool:
    return loaded_to_log_end(settings)


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment for a `tweetpipe` subprocess that should use exactly these settings (and no
    `.env` in its working directory): see tests/isolation.py."""
    return cli_env(settings)
