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
from dataclasses import dataclass, field
from typing import Any

from tweetpipe import db
from tweetpipe.settings import Settings
from tweetpipe.transform import spark_session
from tweetpipe.transform.batch_job import STAGE_PREFIX, upsert_from_stage, write_stage

log = logging.getLogger("tweetpipe.transform")

RECORD_SCHEMA = (
    "id STRING, author_id STRING, text STRING, lang STRING, created_at STRING, "
    "in_reply_to_user_id STRING, note_tweet STRUCT<text: STRING>, author STRUCT<username: STRING>, "
    "referenced_tweets ARRAY<STRUCT<type: STRING, id: STRING>>, "
    "attachments STRUCT<media_keys: ARRAY<STRING>>, "
    "entities STRUCT<hashtags: ARRAY<STRUCT<tag: STRING>>, mentions: ARRAY<STRUCT<username: "
    "STRING>>, cashtags: ARRAY<STRUCT<tag: STRING>>, urls: ARRAY<STRUCT<url: STRING, "
    "expanded_url: STRING>>>"
)


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
    """Kafka rows -> the tweet_merge-like columns `enrich` reads."""
    from pyspark.sql import functions as F

    rec = F.from_json(F.col("value").cast("string"), RECORD_SCHEMA)
    r = raw.select(rec.alias("r"), F.col("timestamp").alias("kafka_ts")).where(
        F.col("r.id").rlike("^[0-9]+$") & F.col("r.text").isNotNull())
    return r.select(
        F.col("r.id").cast("long").alias("tweet_id"),
        F.col("r.author_id").cast("long").alias("author_id"),
        F.col("r.author.username").alias("author_username"),
        F.to_timestamp("r.created_at").alias("created_at"),
        F.col("r.lang").alias("lang"),
        F.coalesce(F.col("r.note_tweet.text"), F.col("r.text")).alias("text"),
        F.col("r.in_reply_to_user_id").cast("long").alias("in_reply_to_user_id"),
        F.col("r.referenced_tweets.type").alias("referenced_types"),
        F.col("r.entities.hashtags.tag").alias("hashtags"),
        F.col("r.entities.mentions.username").alias("mentions"),
        F.col("r.entities.cashtags.tag").alias("cashtags"),
        F.coalesce(F.col("r.entities.urls.expanded_url"), F.col("r.entities.urls.url"))
        .alias("urls"),
        F.col("r.attachments.media_keys").alias("media_keys"),
        F.lit(0).cast("long").alias("load_seq"),
        "kafka_ts",
    )


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
