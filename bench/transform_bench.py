"""The transform at scale, on one warm Spark session in this process:

1. `base` real-shaped tweets are produced to Kafka and loaded by tweetpipe's loader (so the
   rows are exactly what the loader writes), then transformed once (JIT warm-up, timed too);
2. tweet_merge is grown to `rows` by copying those loaded rows in SQL with fresh tweet ids
   (offset per copy) and fresh load sequence numbers: every column as the loader wrote it,
   only the id and `load_seq`/`loaded_at` differ;
3. timed: a full run over all `rows`; then 1 % new rows (copies again) and an incremental run;
   then micro-batches of `micro` new rows each, as `tweetpipe run` does every few seconds.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from psycopg import sql

from bench import report
from bench.data import produce_messages, real_shaped_messages
from bench.stack import isolated
from tweetpipe import db
from tweetpipe.load.loader import Loader, LoadOptions
from tweetpipe.settings import Settings
from tweetpipe.transform import batch_job, spark_session

log = logging.getLogger(__name__)
ID_STEP = 10**12  # copy k of a row has tweet_id + k * ID_STEP (real-shaped ids are ~2e18)
MICRO_RUNS = 5


def run(settings: Settings, rows: int, *, base: int = 100_000, micro: int = 1_000,
        seed: int = 11) -> dict[str, Any]:
    own = isolated(settings, "transform")
    produce_messages(own, own.kafka_topic, real_shaped_messages(min(base, rows), seed))
    loaded = Loader(own, LoadOptions(idle_seconds=2.0)).run().rows
    spark = spark_session.session(own, app="tweetpipe-bench-transform")
    try:
        began = time.perf_counter()
        batch_job.run_batch(own, spark=spark)
        first = time.perf_counter() - began
        copies = _grow(own, loaded, rows)
        total = _count(own)
        began = time.perf_counter()
        full = batch_job.run_batch(own, full=True, spark=spark)
        full_s = time.perf_counter() - began
        incremental_rows = max(total // 100, 1)
        _copy(own, copies + 1, incremental_rows)
        began = time.perf_counter()
        inc = batch_job.run_batch(own, spark=spark)
        inc_s = time.perf_counter() - began
        micro_runs = []
        for k in range(MICRO_RUNS):
            _copy(own, copies + 2 + k, micro)
            began = time.perf_counter()
            batch_job.run_batch(own, spark=spark)
            micro_runs.append(round(time.perf_counter() - began, 3))
    finally:
        spark.stop()
    return {
        "rows": total, "loaded_by_loader": loaded, "first_run_s": round(first, 2),
        "full_s": round(full_s, 2), "full_upserted": full.upserted,
        "incremental_rows": inc.read, "incremental_s": round(inc_s, 2),
        "incremental_ratio": round(inc_s / full_s, 4),
        "micro_batch_rows": micro,
        "micro_batch_s": {"runs": micro_runs, "p50_s": report.percentile(micro_runs, 50),
                          "max_s": max(micro_runs)},
    }


def _grow(settings: Settings, loaded: int, rows: int) -> int:
    """Copy the loaded rows until tweet_merge holds `rows`; returns the copies made."""
    copies = 0
    while _count(settings) < rows:
        copies += 1
        _copy(settings, copies, min(loaded, rows - _count(settings)))
        log.info("tweet_merge: %d rows", _count(settings))
    return copies


def _copy(settings: Settings, k: int, limit: int) -> None:
    """Insert `limit` copies of loaded rows with tweet_id + k * ID_STEP and new load_seq."""
    with db.connect(settings) as conn:
        columns = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema ="
            " current_schema() AND table_name = 'tweet_merge' ORDER BY ordinal_position")]
        values = [sql.SQL("tweet_id + {}").format(sql.Literal(k * ID_STEP)) if c == "tweet_id"
                  else sql.SQL("nextval('tweet_load_seq')") if c == "load_seq"
                  else sql.SQL("now()") if c == "loaded_at" else sql.Identifier(c)
                  for c in columns]
        conn.execute(sql.SQL(
            "INSERT INTO tweet_merge ({}) SELECT {} FROM tweet_merge WHERE tweet_id < {}"
            " ORDER BY load_seq LIMIT {}").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL(", ").join(values),
                sql.Literal(ID_STEP_FLOOR), sql.Literal(limit)))
        conn.commit()


def _count(settings: Settings) -> int:
    with db.connect(settings, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM tweet_merge").fetchone()
    return int(row[0]) if row else 0


#: the loaded rows' ids are below this (real-shaped ids start at 2e18; copies are above)
ID_STEP_FLOOR = 2_000_000_000_000_000_000 + ID_STEP
