"""`tweetpipe transform`: incremental, idempotent batch transform of tweet_merge.

1. Under an advisory lock (one batch transform at a time), read the watermark: the highest
   load sequence already transformed. The watermark is the loader's load sequence, never tweet
   time, so late tweets are never skipped.
2. Read the rows loaded since (load_seq in (watermark, upper]) over JDBC, partitioned on
   load_seq with bounds from the data, and enrich them in Spark.
3. Write the result to a fresh staging table over JDBC, then in ONE PostgreSQL transaction:
   upsert tweet_transformed from staging, update the trends by what it changed, advance the
   watermark, drop the staging table. A crash before that commit leaves the watermark where it
   was, so the next run redoes the same rows: nothing duplicated, nothing skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from tweetpipe import db
from tweetpipe.db.upsert import Upsert
from tweetpipe.errors import TransformError
from tweetpipe.load.columns import TRANSFORM_INPUT
from tweetpipe.settings import Settings
from tweetpipe.transform import spark_session, trends

BATCH_JOB = "batch"
TRANSFORM_LOCK = 0x7477_7466  # "twtf"
#: The columns of tweet_merge `enrich` reads (declared, and typed, by the loader's spec).
INPUT_COLUMNS = TRANSFORM_INPUT
STAGE_PREFIX = "tweet_transformed_stage_"


@dataclass(frozen=True)
class TransformResult:
    read: int
    upserted: int
    watermark_from: int
    watermark_to: int


def run_batch(settings: Settings, *, full: bool = False, master: str | None = None,
              partitions: int = 4, before_commit: Callable[[], None] | None = None,
              spark: Any = None) -> TransformResult:
    from tweetpipe.transform.enrich import TRANSFORM_VERSION

    db.migrate(settings)
    with db.connect(settings, autocommit=True) as lock_conn:
        if not _try_lock(lock_conn):
            raise TransformError("another `tweetpipe transform` is running on this database")
        _drop_stale_stages(lock_conn)
        lower = 0 if full else _watermark(lock_conn, TRANSFORM_VERSION)
        upper = _max_load_seq(lock_conn)
        if upper <= lower:
            return TransformResult(0, 0, lower, lower)
        session = spark or spark_session.session(settings, master=master)
        stage = f"{STAGE_PREFIX}{uuid.uuid4().hex[:12]}"
        read = _stage_rows(settings, session, stage, lower, upper, partitions)
        if before_commit:
            before_commit()
        with db.connect(settings) as conn, conn.transaction():
            upserted = upsert_from_stage(conn, stage)
            _advance(conn, BATCH_JOB, upper, TRANSFORM_VERSION)
        return TransformResult(read, upserted, lower, upper)


def _stage_rows(settings: Settings, spark: Any, stage: str, lower: int, upper: int,
                partitions: int) -> int:
    from tweetpipe.transform.enrich import enrich

    with db.connect(settings, autocommit=True) as conn:
        query = sql.SQL(
            "(SELECT {cols} FROM tweet_merge WHERE load_seq > {lower} AND load_seq <= {upper})"
            " AS batch"
        ).format(cols=sql.SQL(", ").join(map(sql.Identifier, INPUT_COLUMNS)),
                 lower=sql.Literal(lower), upper=sql.Literal(upper)).as_string(conn)
    props = spark_session.jdbc_properties(settings, fetchsize="5000")
    source = spark.read.jdbc(
        settings.jdbc_url(), query, column="load_seq", lowerBound=lower + 1,
        upperBound=upper + 1, numPartitions=max(1, partitions), properties=props)
    enriched = enrich(source).cache()
    try:
        count = int(enriched.count())
        write_stage(settings, enriched, stage)
    except Exception as exc:  # py4j/JVM errors carry the JDBC cause
        raise TransformError(f"Spark could not transform or stage rows: {_short(exc)}",
                             load_seq_from=lower, load_seq_to=upper) from exc
    finally:
        enriched.unpersist()
    return count


def write_stage(settings: Settings, rows: Any, stage: str) -> None:
    """Create the staging table `stage` and write `rows` to it."""
    with db.connect(settings, autocommit=True) as conn:
        create_stage(conn, stage)
    rows.write.jdbc(settings.jdbc_url(), stage, mode="append",
                    properties=spark_session.jdbc_properties(settings, batchsize="5000"))


def create_stage(conn: psycopg.Connection[Any], stage: str) -> None:
    """A staging table `stage` shaped like tweet_transformed (`upsert_from_stage` drops it)."""
    conn.execute(sql.SQL("CREATE UNLOGGED TABLE {} (LIKE tweet_transformed INCLUDING DEFAULTS)")
                 .format(sql.Identifier(stage)))


def upsert_from_stage(conn: psycopg.Connection[Any], stage: str) -> int:
    """Upsert staged rows into tweet_transformed, update the trends by what changed, drop the
    stage."""
    stage_id = sql.Identifier(stage)
    columns = [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'tweet_transformed'"
        " AND table_schema = current_schema() AND column_name <> 'transformed_at'"
        " ORDER BY ordinal_position").fetchall()]
    upsert = Upsert("tweet_transformed", "tweet_id", columns, newest="load_seq",
                    touched={"transformed_at": sql.SQL("now()")})
    upserted = trends.apply(conn, stage_id, lambda: upsert.run(conn, stage_id))
    conn.execute(sql.SQL("DROP TABLE {}").format(stage_id))
    return upserted


def _try_lock(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (TRANSFORM_LOCK,)).fetchone()
    return bool(row and row[0])


def _watermark(conn: psycopg.Connection[Any], version: int) -> int:
    row = conn.execute("SELECT load_seq, version FROM transform_watermarks WHERE job = %s",
                       (BATCH_JOB,)).fetchone()
    if row is None or row[1] != version:
        return 0  # never run, or run by another transform version: redo everything
    return int(row[0])


def _max_load_seq(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT coalesce(max(load_seq), 0) FROM tweet_merge").fetchone()
    return int(row[0]) if row else 0


def _advance(conn: psycopg.Connection[Any], job: str, load_seq: int, version: int) -> None:
    conn.execute(
        "INSERT INTO transform_watermarks (job, load_seq, version) VALUES (%s, %s, %s)"
        " ON CONFLICT (job) DO UPDATE SET load_seq = EXCLUDED.load_seq,"
        " version = EXCLUDED.version, updated_at = now()", (job, load_seq, version))


def _drop_stale_stages(conn: psycopg.Connection[Any]) -> None:
    """Staging tables of runs that crashed before their commit (we hold the transform lock)."""
    stale = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        " AND tablename LIKE %s", (STAGE_PREFIX + "%",)).fetchall()
    for (name,) in stale:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))


def _short(exc: BaseException) -> str:
    text = str(exc)
    for line in text.splitlines():
        if "Exception" in line or "ERROR" in line:
            return line.strip()[:500]
    return text.strip().splitlines()[0][:500] if text.strip() else type(exc).__name__
