"""The pipeline as a Python object, for notebooks and scripts; the `tweetpipe` CLI uses it too.

    from tweetpipe import Pipeline
    from tweetpipe.demo import sample_files

    pipe = Pipeline()                  # settings from the environment / .env, as the CLI
    pipe.services_up()                 # Kafka + PostgreSQL (or those already answering)
    pipe.replay(*sample_files())       # 1. produce into the topic `tweet-crawl`
    pipe.load()                        # 2. consume into `tweet_merge`, exactly once
    pipe.transform()                   # 3. Spark: new rows -> `tweet_transformed`, trends
    pipe.transformed(5)                # pandas DataFrames for a look at the results

Every method is one stage with the same guarantees as its command. Long stages take an optional
`on_progress` callback, called with the stage's counters (`CollectStats`, `LoadStats`) as they
change, and `stop` (a `threading.Event` that ends them cleanly). Reads open a short connection
each and return pandas DataFrames.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, LiteralString, TypeVar

import psycopg
from psycopg import sql

from tweetpipe import db, kafka, services
from tweetpipe.collect import CollectStats, SearchOptions
from tweetpipe.errors import ConfigError, DatabaseError, TweetpipeError
from tweetpipe.load import lag
from tweetpipe.load.loader import LoadOptions, LoadStats
from tweetpipe.progress import periodic
from tweetpipe.services import ServiceStatus
from tweetpipe.settings import Settings, load_settings

if TYPE_CHECKING:
    import pandas as pd

    from tweetpipe.transform.batch_job import TransformResult
    from tweetpipe.transform.streaming_job import StreamingJobStats
    from tweetpipe.xapi import XClient

__all__ = ["STATUS_TABLES", "Pipeline", "Status"]

OnCollect = Callable[[CollectStats], None]
Counted = TypeVar("Counted", CollectStats, LoadStats)

#: the tables `status()` counts (those that exist).
STATUS_TABLES = ("tweet_merge", "tweet_author", "tweet_media", "tweet_place", "tweet_poll",
                 "tweet_included", "dead_letters", "api_errors", "tweet_transformed",
                 "trend_minute")
TWEET_COLUMNS = ("tweet_id", "created_at", "author_username", "lang", "text", "hashtags",
                 "mentions", "retweet_count", "reply_count", "like_count", "quote_count",
                 "collect_source")
TRANSFORMED_COLUMNS = ("tweet_id", "created_at", "author_username", "lang", "clean_text",
                       "hashtags", "mentions", "emojis", "is_retweet", "is_reply", "is_quote",
                       "has_media", "word_count", "sentiment", "sentiment_label")
TREND_TABLES = {"minute": ("trend_minute", ("minute", "tweets", "scored", "mean_sentiment")),
                "hashtag": ("trend_hashtag", ("minute", "hashtag", "tweets")),
                "mention": ("trend_mention", ("minute", "mention", "tweets"))}


@dataclass(frozen=True)
class Status:
    """What `tweetpipe status` shows: services, rows per table, dead letters, lag.

    `tables` is None when the database could not be reached (`database_error` says why);
    `partitions` is None before the first load (no stored offsets yet) or when Kafka could not
    be reached (`kafka_error`).
    """

    topic: str
    group: str
    services: list[ServiceStatus]
    tables: dict[str, int] | None = None
    dead_letters: dict[str, int] = field(default_factory=dict)
    partitions: list[lag.PartitionPosition] | None = None
    database_error: str | None = None
    kafka_error: str | None = None

    @property
    def lag(self) -> int | None:
        """Messages of the topic not loaded yet (None when unknown)."""
        return None if self.partitions is None else lag.total_lag(self.partitions)

    @property
    def under_replicated(self) -> int | None:
        """Kafka partitions with fewer in-sync replicas than replicas, as the brokers' rows
        of `services` tell (None when unknown)."""
        counts = [s.under_replicated for s in self.services if s.under_replicated is not None]
        return max(counts) if counts else None


class Pipeline:
    """X API v2 -> Kafka -> PostgreSQL `tweet_merge` -> PySpark -> `tweet_transformed`.

    `settings` default to `load_settings()`: the environment and a `.env` file in the working
    directory (TWITTER_BEARER_TOKEN, DB_USER, DB_PASS, KAFKA_TOPIC, ...).
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings if settings is not None else load_settings()

    def __repr__(self) -> str:
        s = self.settings
        return (f"Pipeline(db={s.db_display!r}, schema={s.db_schema!r}, "
                f"kafka={s.kafka_bootstrap_servers!r}, topic={s.kafka_topic!r})")

    # ---- services -----------------------------------------------------------------------------

    def services_up(self) -> list[ServiceStatus]:
        """Start Kafka and PostgreSQL, or use those already answering at the configured
        addresses (idempotent); also fetches Spark's JVM jars."""
        return services.up(self.settings)

    def services_down(self) -> list[str]:
        """Stop what `services_up` started (never a server it found running); the names."""
        return services.down(self.settings)

    def services_status(self) -> list[ServiceStatus]:
        return services.status(self.settings)

    def migrate(self) -> list[str]:
        """Apply the schema migrations the database lacks (the stages do it themselves)."""
        return [f"{m.version:04d}_{m.name}" for m in db.migrate(self.settings)]

    # ---- 1. collect into Kafka --------------------------------------------------------------

    def replay(self, *files: str | Path, stats: CollectStats | None = None,
               on_progress: OnCollect | None = None, progress_every: float = 0.25
               ) -> CollectStats:
        """Produce every tweet of recorded X API v2 JSONL files (search pages or stream lines)
        to the topic; unparseable lines go on to the dead-letter table and are counted.

        Returns the counters (`tweets`, `ids`, `bad_lines`, ...), filled in `stats` if given;
        `on_progress(stats)` is called every `progress_every` seconds and at the end.
        """
        from tweetpipe import collect

        if not files:
            raise ConfigError("name at least one JSONL file to replay")
        stats = stats if stats is not None else CollectStats()
        kafka.ensure_topic(self.settings)
        with _reporting(stats, on_progress, progress_every), \
                kafka.TweetProducer(self.settings) as producer:
            collect.replay([Path(f) for f in files], producer, stats=stats)
        return stats

    def collect_search(
        self, query: str | SearchOptions, *, archive: bool = False, since_id: str | None = None,
        until_id: str | None = None, start_time: str | None = None,
        end_time: str | None = None, max_results: int | None = None, limit: int | None = None,
        resume: bool = False, follow: bool = False, interval: float = 60.0,
        stats: CollectStats | None = None, on_progress: OnCollect | None = None,
        progress_every: float = 0.25, stop: threading.Event | None = None,
        backoff_scale: float = 1.0,
    ) -> CollectStats:
        """Recent (or `archive=True` full-archive) search into the topic, page by page.

        Needs TWITTER_BEARER_TOKEN. The position is saved after every page Kafka acknowledged:
        `resume=True` continues there. `query` may also be a complete `SearchOptions` (then the
        other search arguments are ignored). Returns the counters (`tweets`, `ids`, `pages`),
        filled in `stats` if given; `on_progress(stats)` is called every `progress_every`
        seconds and at the end.
        """
        from tweetpipe.collect.search import collect_search

        options = query if isinstance(query, SearchOptions) else SearchOptions(
            query, archive, since_id, until_id, start_time, end_time, max_results, limit,
            resume, follow, interval)
        options.position()  # a bad combination fails before anything is opened
        stats = stats if stats is not None else CollectStats()
        kafka.ensure_topic(self.settings)
        with _reporting(stats, on_progress, progress_every), \
                self._x_client(stats, stop=stop, backoff_scale=backoff_scale) as client, \
                kafka.TweetProducer(self.settings) as producer:
            collect_search(client, producer, options, state_dir=self.settings.state_dir,
                           progress=stats)
        return stats

    def collect_stream(
        self, *, limit: int | None = None, seconds: float | None = None, sample: bool = False,
        backfill_minutes: int | None = None, stall_timeout: float = 20.0,
        stats: CollectStats | None = None, on_progress: OnCollect | None = None,
        progress_every: float = 0.25, stop: threading.Event | None = None,
        backoff_scale: float = 1.0,
    ) -> CollectStats:
        """The filtered (or `sample=True` 1 %) stream into the topic, reconnecting by X's rules,
        until `limit` lines or `seconds` (or `stop` is set): one of them is required.

        Needs TWITTER_BEARER_TOKEN (and stream rules: `tweetpipe rules add`). Lines go through a
        journal first, so a slow Kafka never loses them. Returns the counters, as `replay`.
        """
        from tweetpipe import collect, xapi

        if limit is None and seconds is None and stop is None:
            raise ConfigError("an unbounded stream never returns: pass limit=, seconds= or stop=")
        options = collect.StreamOptions(sample, backfill_minutes, limit, seconds,
                                        xapi.Backoff(scale=backoff_scale))
        stats = stats if stats is not None else CollectStats()
        kafka.ensure_topic(self.settings)
        with _reporting(stats, on_progress, progress_every), \
                self._x_client(stats, stop=stop, stall_timeout=stall_timeout,
                               backoff_scale=backoff_scale) as client, \
                collect.SpoolProducer(self.settings) as producer:
            collect.StreamCollector(client, producer, options, state_dir=self.settings.state_dir,
                                    progress=stats).run()
        return stats

    def counts(self, query: str, *, archive: bool = False, granularity: str = "day",
               start_time: str | None = None, end_time: str | None = None,
               since_id: str | None = None, until_id: str | None = None,
               stop: threading.Event | None = None, backoff_scale: float = 1.0,
               ) -> pd.DataFrame:
        """How many tweets `query` matches per `granularity` (day, hour or minute), from X's
        recent (or `archive=True` full-archive) counts endpoint: to size a collection before
        running it. Needs TWITTER_BEARER_TOKEN; nothing goes to Kafka.

        A DataFrame with one row per bucket, oldest first: `start`, `end` (UTC timestamps) and
        `tweet_count`; `df.tweet_count.sum()` is the total. X's default window is the last 7
        (recent) or 30 (archive) days; `start_time`/`end_time` (RFC 3339) set another.
        """
        import pandas as pd

        from tweetpipe.collect.counts import CountsOptions, fetch_counts

        options = CountsOptions(query, archive, granularity, start_time, end_time, since_id,
                                until_id)
        options.params()  # a bad option fails before any request
        with self._x_client(CollectStats(), stop=stop, backoff_scale=backoff_scale) as client:
            buckets = fetch_counts(client, options, stop)
        frame = pd.DataFrame.from_records(
            [(b.start, b.end, b.tweet_count) for b in buckets],
            columns=["start", "end", "tweet_count"])
        for column in ("start", "end"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame.astype({"tweet_count": "int64"})

    def _x_client(self, stats: CollectStats, *, stop: threading.Event | None,
                  stall_timeout: float = 20.0, backoff_scale: float = 1.0) -> XClient:
        from tweetpipe import xapi

        defaults = xapi.ClientOptions()
        options = dataclasses.replace(
            defaults, stall_timeout=stall_timeout,
            backoff=dataclasses.replace(defaults.backoff, scale=backoff_scale))
        return xapi.XClient(settings=self.settings, options=options, stop=stop,
                            on_wait=stats.on_wait)

    # ---- 2. load into PostgreSQL ------------------------------------------------------------

    def load(self, until_idle: bool = True, *, idle_seconds: float = 3.0,
             max_messages: int | None = None, batch: int = 5000,
             instance_id: str | None = None, stop: threading.Event | None = None,
             stats: LoadStats | None = None,
             on_progress: Callable[[LoadStats], None] | None = None,
             progress_every: float = 0.25) -> LoadStats:
        """Consume the topic into `tweet_merge` (and its side tables) exactly once: each
        batch's rows and offsets commit in one transaction.

        `until_idle` returns once the topic is drained and quiet for `idle_seconds`; without it
        the loader runs until `max_messages` or `stop`. Returns the counters, filled in
        `stats` if given; `on_progress(stats)` is called every `progress_every` seconds and at
        the end.
        """
        from tweetpipe.load.loader import load

        options = LoadOptions(batch_messages=batch, max_messages=max_messages,
                              idle_seconds=idle_seconds if until_idle else None,
                              instance_id=instance_id)
        stats = stats if stats is not None else LoadStats()
        with _reporting(stats, on_progress, progress_every):
            return load(self.settings, options, stop=stop, stats=stats)

    # ---- 3. transform with Spark ------------------------------------------------------------

    def transform(self, full: bool = False, *, master: str | None = None, spark: Any = None,
                  before_commit: Callable[[], None] | None = None) -> TransformResult:
        """Spark: rows of `tweet_merge` loaded since the last run (all of them with `full`) ->
        `tweet_transformed` and the per-minute trends, committed in one transaction.

        `master` overrides SPARK_MASTER; `spark` reuses a SparkSession; `before_commit` is a
        test hook run between staging and the commit.
        """
        from tweetpipe.transform import batch_job

        return batch_job.run_batch(self.settings, full=full, master=master, spark=spark,
                                   before_commit=before_commit)

    def transform_stream(self, *, idle_seconds: float | None = None, master: str | None = None,
                         stop: threading.Event | None = None) -> StreamingJobStats:
        """Structured Streaming straight from the topic into `tweet_transformed`, until no input
        arrived for `idle_seconds` (or `stop` is set): one of them is required."""
        from tweetpipe.transform import streaming_job

        if idle_seconds is None and stop is None:
            raise ConfigError("an unbounded stream never returns: pass idle_seconds= or stop=")
        return streaming_job.run(self.settings, master=master, stop=stop,
                                 idle_seconds=idle_seconds)

    # ---- status -----------------------------------------------------------------------------

    def status(self) -> Status:
        """Services, rows per table, dead letters by reason, per-partition lag."""
        base = Status(self.settings.kafka_topic, self.settings.kafka_group,
                      services.status(self.settings))
        found: dict[str, Any] = {}
        try:
            with db.connect(self.settings, autocommit=True) as conn:
                existing = [name for name in STATUS_TABLES if _exists(conn, name)]
                found["tables"] = db.table_counts(self.settings, existing)
                if "dead_letters" in existing:
                    rows = conn.execute("SELECT reason, count(*) FROM dead_letters"
                                        " GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
                    found["dead_letters"] = {str(reason): int(n) for reason, n in rows}
                if _exists(conn, "kafka_offsets"):
                    try:
                        found["partitions"] = lag.topic_positions(self.settings, conn)
                    except TweetpipeError as exc:
                        found["kafka_error"] = str(exc)
        except TweetpipeError as exc:
            found["database_error"] = str(exc)
        return dataclasses.replace(base, **found)

    # ---- reads, as pandas DataFrames --------------------------------------------------------

    def query(self, statement: LiteralString | sql.SQL | sql.Composed,
              params: Sequence[Any] | Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Any SQL on the pipeline's database (in its schema), as a DataFrame; pass values as
        `params` (`%s` or `%(name)s` placeholders), never formatted into the text. Times are
        in UTC."""
        import pandas as pd

        try:
            with db.connect(self.settings, autocommit=True) as conn:
                conn.execute("SET TIME ZONE 'UTC'")
                cursor = conn.execute(statement, params)
                columns = [c.name for c in cursor.description or []]
                rows = cursor.fetchall() if cursor.description else []
        except psycopg.Error as exc:
            raise DatabaseError(f"query failed: {str(exc).splitlines()[0]}") from exc
        return pd.DataFrame.from_records(rows, columns=columns)

    def tweets(self, limit: int | None = 20, *, columns: Sequence[str] = TWEET_COLUMNS
               ) -> pd.DataFrame:
        """The newest loaded tweets of `tweet_merge` (by tweet time)."""
        return self._newest("tweet_merge", columns, limit)

    def transformed(self, limit: int | None = 20, *, columns: Sequence[str] = TRANSFORMED_COLUMNS
                    ) -> pd.DataFrame:
        """The newest rows of `tweet_transformed` (by tweet time)."""
        return self._newest("tweet_transformed", columns, limit)

    def trends(self, kind: Literal["minute", "hashtag", "mention"] = "minute", *,
               since: Any = None, until: Any = None) -> pd.DataFrame:
        """Trends per minute of tweet time, oldest first: `minute` -> tweets, scored and mean
        sentiment per minute; `hashtag` / `mention` -> tweets per minute and tag. `since` and
        `until` (datetimes or ISO strings) bound the minutes, `until` exclusive."""
        if kind not in TREND_TABLES:
            raise ConfigError(f"trends kind must be one of {', '.join(TREND_TABLES)}")
        table, columns = TREND_TABLES[kind]
        order = ["minute"] if kind == "minute" else ["minute", "tweets DESC", columns[1]]
        statement = sql.SQL(
            "SELECT {columns} FROM {table}"
            " WHERE (%(since)s::timestamptz IS NULL OR minute >= %(since)s::timestamptz)"
            " AND (%(until)s::timestamptz IS NULL OR minute < %(until)s::timestamptz)"
            " ORDER BY {order}"
        ).format(columns=_columns(columns), table=sql.Identifier(table),
                 order=sql.SQL(", ").join(_order(o) for o in order))
        return self.query(statement, {"since": since, "until": until})

    def top_hashtags(self, limit: int = 10) -> pd.DataFrame:
        """Hashtags by the tweets that carry them (case folded), most first."""
        return self._top("trend_hashtag", "hashtag", limit)

    def top_mentions(self, limit: int = 10) -> pd.DataFrame:
        """Mentioned accounts by the tweets that mention them, most first."""
        return self._top("trend_mention", "mention", limit)

    def _top(self, table: str, column: str, limit: int) -> pd.DataFrame:
        statement = sql.SQL(
            "SELECT {column}, sum(tweets)::bigint AS tweets FROM {table} GROUP BY 1"
            " ORDER BY 2 DESC, 1 LIMIT %s"
        ).format(column=sql.Identifier(column), table=sql.Identifier(table))
        return self.query(statement, [limit])

    def _newest(self, table: str, columns: Sequence[str], limit: int | None) -> pd.DataFrame:
        statement = sql.SQL(
            "SELECT {columns} FROM {table} ORDER BY created_at DESC NULLS LAST, tweet_id DESC"
            " LIMIT %s"
        ).format(columns=_columns(columns), table=sql.Identifier(table))
        return self.query(statement, [limit])


def _columns(names: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(name) for name in names)


def _order(term: str) -> sql.Composable:
    name, _, direction = term.partition(" ")
    return sql.SQL("{} DESC").format(sql.Identifier(name)) if direction else sql.Identifier(name)


def _exists(conn: psycopg.Connection[Any], table: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
    return bool(row and row[0])


@contextlib.contextmanager
def _reporting(stats: Counted, on_progress: Callable[[Counted], None] | None, every: float
               ) -> Iterator[None]:
    """Call `on_progress(stats)` every `every` seconds while the block runs, and at its end."""
    if on_progress is None:
        yield
        return
    with periodic(lambda: on_progress(stats), every=every):
        yield
    on_progress(stats)
