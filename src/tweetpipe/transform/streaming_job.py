"""`tweetpipe transform --stream`: Spark Structured Streaming straight from the Kafka topic.

The same `enrich` as the batch job runs on every micro-batch. `foreachBatch` is made exactly
once with a ledger in PostgreSQL: a micro-batch's rows are staged, then upserted together with
its (job, batch_id) ledger row in one transaction; a batch Spark replays after a crash finds its
id in the ledger and is skipped. The checkpoint lives under TWEETPIPE_HOME. After each batch the
latency from Kafka timestamp to committed row is logged (p50/p99).
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tweetpipe import db
from tweetpipe.errors import RecordError
from tweetpipe.load.columns import TWEETS
from tweetpipe.load.rows import Coordinates, parse_message
from tweetpipe.settings import Settings
from tweetpipe.transform import spark_session
from tweetpipe.transform.batch_job import (
    INPUT_COLUMNS,
    STAGE_PREFIX,
    upsert_from_stage,
    write_stage,
)

log = logging.getLogger("tweetpipe.transform")
MAX_RECORD_BYTES = 64 * 1024 * 1024  # no size limit of the loader's here: Kafka's own applies
_BIGINT = range(-(2**63), 2**63)


@dataclass
class StreamingJobStats:
    batches: int = 0
    skipped: int = 0
    rows: int = 0
    latencies: list[float] = field(default_factory=list)

    def percentiles(self) -> tuple[float, float]:
        if len(self.latencies) < 2:
            return (self.latencies[0], self.latencies[0]) if self.latencies else (0.0, 0.0)
        cuts = statistics.quantiles(self.latencies, n=100)
        return cuts[49], cuts[98]


def job_name(settings: Settings) -> str:
    return f"stream:{settings.kafka_topic}"


def tweets_from_kafka(raw: Any) -> Any:
    """Kafka rows -> the tweet_merge columns `enrich` reads (and the Kafka timestamp), parsed
    by the loader's own `parse_message`: one mapping from record to columns, and a record the
    loader would dead-letter is skipped here."""
    from pyspark.sql import functions as F

    schema = f"{TWEETS.spark_ddl(INPUT_COLUMNS)}, kafka_ts TIMESTAMP"
    return raw.select("value", "topic", "partition", "offset",
                      F.col("timestamp").alias("kafka_ts")).mapInPandas(parse_frames, schema)


def parse_frames(frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """`mapInPandas` function: frames of Kafka messages -> frames of INPUT_COLUMNS + kafka_ts."""
    loaded = [c for c in INPUT_COLUMNS if c in TWEETS.columns]  # load_seq is PostgreSQL's
    picks = [TWEETS.index(c) for c in loaded]
    for frame in frames:
        rows = []
        for value, topic, partition, offset, kafka_ts in frame.itertuples(index=False):
            try:
                parsed = parse_message(value, Coordinates(topic, partition, offset),
                                       max_bytes=MAX_RECORD_BYTES)
            except RecordError:
                continue
            if parsed.tweet is None:  # a message of API errors: no tweet to transform
                continue
            row = [parsed.tweet[i] for i in picks]
            if all(v is None or not isinstance(v, int) or v in _BIGINT for v in row):
                rows.append([*row, kafka_ts])  # else PostgreSQL would refuse it too
        out = pd.DataFrame(rows, columns=[*loaded, "kafka_ts"], dtype=object)
        for name in loaded:
            if TWEETS.column(name).pg_type == "timestamptz":
                out[name] = pd.to_datetime(out[name], utc=True, format="ISO8601",
                                           errors="coerce")
        out["kafka_ts"] = pd.to_datetime(out["kafka_ts"])
        out["load_seq"] = 0
        yield out[[*INPUT_COLUMNS, "kafka_ts"]]


class BatchWriter:
    """The foreachBatch function: stage, then upsert + ledger in one transaction."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.job = job_name(settings)
        self.stats = StreamingJobStats()

    def __call__(self, batch: Any, batch_id: int) -> None:
        from pyspark.sql import functions as F

        from tweetpipe.transform.enrich import enrich

        if self._done(batch_id):
            self.stats.skipped += 1
            return
        batch = batch.dropDuplicates(["tweet_id"]).cache()
        stamps = [r[0] for r in batch.select(F.unix_timestamp("kafka_ts")).collect()]
        stage = f"{STAGE_PREFIX}{uuid.uuid4().hex[:12]}"
        write_stage(self.settings, enrich(batch.drop("kafka_ts")), stage)
        batch.unpersist()
        with db.connect(self.settings) as conn, conn.transaction():
            upserted = upsert_from_stage(conn, stage)
            conn.execute("INSERT INTO transform_batches (job, batch_id, rows) VALUES (%s, %s, %s)",
                         (self.job, batch_id, upserted))
        now = time.time()
        self.stats.latencies.extend(now - s for s in stamps if s is not None)
        self.stats.batches += 1
        self.stats.rows += upserted
        p50, p99 = self.stats.percentiles()
        log.info("batch %d: %d rows upserted; latency p50 %.2fs p99 %.2fs",
                 batch_id, upserted, p50, p99)

    def _done(self, batch_id: int) -> bool:
        with db.connect(self.settings, autocommit=True) as conn:
            row = conn.execute("SELECT 1 FROM transform_batches WHERE job = %s AND batch_id = %s",
                               (self.job, batch_id)).fetchone()
        return row is not None


def run(settings: Settings, *, master: str | None = None, stop: threading.Event | None = None,
        idle_seconds: float | None = None, trigger_seconds: float = 1.0) -> StreamingJobStats:
    """Run until `stop` is set (or, with `idle_seconds`, until no input arrived for that long)."""
    db.migrate(settings)
    spark = spark_session.session(settings, app="tweetpipe-stream", master=master)
    checkpoint = settings.state_dir / "spark" / "checkpoints" / (
        f"{settings.db_schema}-{settings.kafka_topic}")
    raw = (spark.readStream.format("kafka")
           .option("kafka.bootstrap.servers", settings.kafka_bootstrap_servers)
           .options(**spark_session.kafka_options(settings))
           .option("subscribe", settings.kafka_topic)
           .option("startingOffsets", "earliest")
           .option("failOnDataLoss", "false")
           .load())
    writer = BatchWriter(settings)
    query = (tweets_from_kafka(raw).writeStream.foreachBatch(writer)
             .option("checkpointLocation", str(checkpoint))
             .trigger(processingTime=f"{trigger_seconds} seconds").start())
    stop = stop or threading.Event()
    last_input: float | None = None  # the idle clock starts with the first micro-batch
    try:
        while not stop.is_set() and query.isActive:
            query.awaitTermination(1)
            progress = query.lastProgress
            if progress and (last_input is None or progress.get("numInputRows", 0) > 0):
                last_input = time.monotonic()
            if (idle_seconds is not None and last_input is not None
                    and time.monotonic() - last_input > idle_seconds):
                break
    finally:
        query.stop()
    if query.exception() is not None:
        from tweetpipe.errors import TransformError

        raise TransformError(f"streaming query failed: {query.exception()}")
    return writer.stats
