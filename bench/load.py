"""Load throughput, side by side in one run on the same real-shaped messages:

* **tweetpipe**: `tweetpipe load`'s loader (`load.loader.Loader`), with one process and with
  several in one consumer group;
* **seed loader**: the seed notebook's loader written with the seed's libraries: kafka-python's
  `KafkaConsumer`, psycopg2, one `INSERT` and one `commit` per message (each row computed by
  tweetpipe's own parse, so it stores the same row);
* **bare COPY**, the limit: the very same rows (tweetpipe's parse of the same Kafka messages,
  by the column spec), formatted beforehand, sent with one COPY and one commit per batch into an
  identical `tweet_merge` (same columns and indexes).

Each loader runs in a process of its own (its peak RSS is reported), into a schema of its own
migrated like tweetpipe's, and is timed from its first message to its last commit. Rates are
tweets per second; ratios are to the bare COPY. Machines are shared and noisy: read the ratios.

The machine's limit is measured too: the CPU time each loader costs per tweet, in its own
process(es), in PostgreSQL (the server and its backends, those that ended included) and in
Kafka, and the rate that work allows if every core did nothing else (`ceiling_per_s`).

Note what each does beyond tweet_merge: tweetpipe also upserts the side tables (authors, media,
places, polls, included tweets), keeps the newest copy of a tweet, and commits the offsets with
the rows (exactly once); the seed loader and the bare COPY write tweet_merge rows only.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import resource
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
import psycopg
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient
from psycopg import sql
from psycopg.copy import Copy, FileWriter

from bench.data import mean_size, produce_messages, real_shaped_messages
from tweetpipe import db, kafka
from tweetpipe.load.columns import TWEETS
from tweetpipe.load.loader import Loader, LoadOptions
from tweetpipe.load.rows import Coordinates, parse_message
from tweetpipe.services import kafka_broker, postgres_server
from tweetpipe.settings import Settings

#: the tweet_merge columns two loaders storing the same tweets store alike (not load_seq or
#: loaded_at: when and in which order each loader stored them)
COMPARED = (*TWEETS.columns, "is_current")
MAX_BYTES = 512 * 1024


def run(settings: Settings, count: int = 50_000, *, seed: int = 7, processes: int = 2,
        seed_count: int | None = 5_000, batch: int = 5_000, keep: bool = False,
        messages: Sequence[bytes] | None = None) -> dict[str, Any]:
    """Produce `count` real-shaped messages to a fresh topic and load them with each loader;
    the seed loader loads the first `seed_count` of them (None: all; it is slow). Returns the
    rates, the ratios to bare COPY and whether every loader stored the same rows."""
    messages = list(messages) if messages is not None else real_shaped_messages(count, seed)
    tag = uuid.uuid4().hex[:8]
    base = settings.model_copy(update={
        "kafka_topic": f"bench-load-{tag}",
        "kafka_partitions": max(settings.kafka_partitions, processes)})
    kafka.ensure_topic(base)
    produce_messages(base, base.kafka_topic, messages)
    runs: dict[str, Settings] = {}

    def schema(name: str) -> Settings:
        runs[name] = base.model_copy(update={"db_schema": f"bench_{tag}_{name}",
                                              "kafka_group": f"bench-{tag}-{name}"})
        db.migrate(runs[name])
        _checkpoint(runs[name])
        return runs[name]

    try:
        # the bare COPY first: its preparation reads the whole topic, so every loader after it
        # reads Kafka from the page cache alike
        limit = _one(_bare_copy, schema("copy"), batch)
        one = _one(_tweetpipe, schema("tweetpipe_1"), batch)
        several = _several(_tweetpipe, schema(f"tweetpipe_{processes}"), batch, processes)
        seeds = _one(_seed_loader, schema("seed"), seed_count or len(messages))
        digests = {name: rows_digest(s) for name, s in runs.items()}
    finally:
        if not keep:
            drop(base, list(runs.values()))
    copy_rate = limit["tweets_per_s"]
    results = {"copy": limit, "tweetpipe_1": one, f"tweetpipe_{processes}": several,
               "seed": seeds}
    limit["cpu_s"].pop("kafka")  # the bare COPY read the topic before it was timed
    for found in results.values():
        found["ratio_to_copy"] = round(found["tweets_per_s"] / copy_rate, 3)
        found["cpu"] = cpu_per_tweet(found.pop("cpu_s"), found["tweets"])
    return {
        "messages": len(messages), "mean_message_bytes": round(mean_size(messages)),
        "seed": seed, "batch": batch, "cpus": os.cpu_count(),
        "loadavg_1m": round(os.getloadavg()[0], 2), "loaders": results,
        "same_rows": len({d for name, d in digests.items() if name != "seed"}) == 1,
        "seed_rows_match": seed_count is None and len(set(digests.values())) == 1,
        "topic": base.kafka_topic, "schemas": {n: s.db_schema for n, s in runs.items()},
    }


# ---- the loaders, each run in a process of its own -------------------------------------------

def _tweetpipe(settings: Settings, batch: int) -> dict[str, Any]:
    stats = Loader(settings, LoadOptions(batch_messages=batch, idle_seconds=2.0)).run()
    return {"tweets": stats.rows, "first": stats.first_batch, "last": stats.last_batch,
            "peak_rss_mb": _peak_rss_mb(), "cpu_s": _own_cpu()}


def _seed_loader(settings: Settings, limit: int) -> dict[str, Any]:
    """The seed's loop: kafka-python, psycopg2, INSERT and commit per message."""
    import psycopg2
    from psycopg2 import sql as sql2

    from kafka import KafkaConsumer

    statement = sql2.SQL(
        "INSERT INTO tweet_merge ({}, load_seq) VALUES ({}, nextval('tweet_load_seq')) "
        "ON CONFLICT (tweet_id) DO NOTHING").format(
            sql2.SQL(", ").join(map(sql2.Identifier, TWEETS.columns)),
            sql2.SQL(", ").join([sql2.Placeholder()] * len(TWEETS.columns)))
    consumer = KafkaConsumer(settings.kafka_topic, group_id=settings.kafka_group,
                             bootstrap_servers=settings.kafka_bootstrap_servers,
                             auto_offset_reset="earliest")
    conn = psycopg2.connect(settings.conninfo(), options=f"-c search_path={settings.db_schema}")
    cur, done, first = conn.cursor(), 0, None
    try:
        for msg in consumer:
            first = first or time.monotonic()
            parsed = parse_message(msg.value, Coordinates(msg.topic, msg.partition, msg.offset),
                                   max_bytes=MAX_BYTES)
            cur.execute(statement, parsed.tweet)
            conn.commit()
            done += 1
            if done >= limit:
                break
    finally:
        consumer.close()
        conn.close()
    return {"tweets": done, "first": first, "last": time.monotonic(),
            "peak_rss_mb": _peak_rss_mb(), "cpu_s": _own_cpu()}


def _bare_copy(settings: Settings, batch: int) -> dict[str, Any]:
    """Read and parse the whole topic, format the rows as COPY data (untimed); then, timed,
    one COPY and one commit per batch."""
    rows = [parse_message(value, where, max_bytes=MAX_BYTES).tweet
            for where, value in read_topic(settings)]
    statement = sql.SQL("COPY tweet_merge ({}) FROM STDIN").format(
        sql.SQL(", ").join(map(sql.Identifier, TWEETS.columns)))
    with db.connect(settings) as conn:
        conn.execute("ALTER TABLE tweet_merge ALTER load_seq SET DEFAULT nextval('tweet_load_seq')")
        conn.commit()
        chunks = [_copy_data(conn, rows[i:i + batch]) for i in range(0, len(rows), batch)]
        first, cpu_before = time.monotonic(), _own_cpu()
        for chunk in chunks:
            with conn.cursor() as cur, cur.copy(statement) as copy:
                copy.write(chunk)
            conn.commit()
        last, timed_cpu = time.monotonic(), _own_cpu() - cpu_before
    return {"tweets": len(rows), "first": first, "last": last, "peak_rss_mb": _peak_rss_mb(),
            "cpu_s": timed_cpu}


def _copy_data(conn: psycopg.Connection[Any], rows: Sequence[Any]) -> bytes:
    """Rows as text COPY data, formatted by psycopg as a loader formats them."""
    out = io.BytesIO()
    with conn.cursor() as cur, Copy(cur, writer=FileWriter(out)) as copy:
        for row in rows:
            copy.write_row(row)
    return out.getvalue()


def read_topic(settings: Settings) -> list[tuple[Coordinates, bytes]]:
    """Every message of the topic with where it is, read once (the partitions' log ends)."""
    marks = kafka.watermarks(settings)
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap_servers,
                         "group.id": f"{settings.kafka_group}-reader", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest"})
    wanted = sum(high - low for low, high in marks.values())
    found: list[tuple[Coordinates, bytes]] = []
    consumer.subscribe([settings.kafka_topic])
    try:
        while len(found) < wanted:
            for msg in consumer.consume(num_messages=10_000, timeout=1.0):
                if msg.error() is None:
                    found.append((Coordinates(msg.topic(), msg.partition(), msg.offset()),
                                  msg.value()))
    finally:
        consumer.close()
    return found


# ---- running them -----------------------------------------------------------------------------

def _child(work: Callable[..., dict[str, Any]], args: tuple[Any, ...],
           results: Any) -> None:
    try:
        results.put(work(*args))
    except BaseException:
        results.put({"error": traceback.format_exc()})
        raise


def _several(work: Callable[..., dict[str, Any]], settings: Settings, arg: Any,
             processes: int) -> dict[str, Any]:
    """`processes` processes running `work` at once; their tweets over the time from the
    first one's first message to the last one's last commit, and the CPU time they cost."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    children = [ctx.Process(target=_child, args=(work, (settings, arg), results))
                for _ in range(processes)]
    services_before = services_cpu(settings)
    for child in children:
        child.start()
    found = [results.get() for _ in children]
    for child in children:
        child.join()
    services = {k: v - services_before[k] for k, v in services_cpu(settings).items()}
    failed = [f["error"] for f in found if "error" in f]
    if failed:
        raise RuntimeError(f"a benchmark loader ({work.__name__}) failed:\n{failed[0]}")
    timed = [f for f in found if f["first"] is not None]
    tweets = sum(f["tweets"] for f in found)
    seconds = max(f["last"] for f in timed) - min(f["first"] for f in timed)
    return {"processes": processes, "tweets": tweets, "seconds": round(seconds, 2),
            "tweets_per_s": round(tweets / max(seconds, 1e-3)),
            "peak_rss_mb": [f["peak_rss_mb"] for f in found],
            "cpu_s": {"loader": sum(f["cpu_s"] for f in found), **services}}


def cpu_per_tweet(spent: dict[str, float], tweets: int) -> dict[str, Any]:
    """CPU microseconds per tweet, by where they are spent, and the rate they allow on this
    machine's cores."""
    per = {k: round(v / max(tweets, 1) * 1e6, 1) for k, v in spent.items()}
    total = sum(per.values())
    return {"us_per_tweet": per, "total_us_per_tweet": round(total, 1),
            "ceiling_per_s": round((os.cpu_count() or 1) / (total / 1e6)) if total else None}


def services_cpu(settings: Settings) -> dict[str, float]:
    """CPU seconds PostgreSQL (the server, its live processes and those it reaped) and the
    Kafka broker have used so far."""
    return {"postgresql": _cpu_seconds(postgres_server.our_pid(settings), children=True),
            "kafka": _cpu_seconds(kafka_broker.our_pid(settings), children=False)}


def _cpu_seconds(pid: int | None, *, children: bool) -> float:
    if pid is None:
        return 0.0
    try:
        server = psutil.Process(pid)
        times = server.cpu_times()
        total = times.user + times.system
        if children:
            total += times.children_user + times.children_system
            for child in server.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    live = child.cpu_times()
                    total += live.user + live.system
        return total
    except psutil.Error:
        return 0.0


def _one(work: Callable[..., dict[str, Any]], settings: Settings, arg: Any) -> dict[str, Any]:
    return _several(work, settings, arg, 1)


def _own_cpu() -> float:
    """This process's CPU seconds so far (all its threads)."""
    return time.process_time()


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: its own, not its parent's before exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _checkpoint(settings: Settings) -> None:
    """Start each loader without the previous one's dirty pages (if the account may)."""
    with (db.connect(settings, autocommit=True) as conn,
          contextlib.suppress(psycopg.errors.InsufficientPrivilege)):
        conn.execute("CHECKPOINT")


# ---- what they stored -------------------------------------------------------------------------

def stored_rows(settings: Settings) -> list[tuple[Any, ...]]:
    """The compared tweet_merge columns of every row, by tweet id."""
    with db.connect(settings, autocommit=True) as conn:
        return conn.execute(sql.SQL("SELECT {} FROM tweet_merge ORDER BY tweet_id").format(
            sql.SQL(", ").join(map(sql.Identifier, COMPARED)))).fetchall()


def rows_digest(settings: Settings) -> str:
    """An md5 of the compared columns of every tweet_merge row, in tweet id order."""
    with db.connect(settings, autocommit=True) as conn:
        row = conn.execute(sql.SQL(
            "SELECT count(*) || ':' || coalesce(md5(string_agg(({})::text, '|' ORDER BY "
            "tweet_id)), '') FROM tweet_merge").format(
                sql.SQL(", ").join(map(sql.Identifier, COMPARED)))).fetchone()
    return str(row[0]) if row else ""


def drop(settings: Settings, schemas: Sequence[Settings]) -> None:
    """Drop the benchmark's schemas and topic."""
    with db.connect(settings, autocommit=True) as conn:
        for each in schemas:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(each.db_schema)))
    admin = AdminClient(kafka.client_config(settings, "tweetpipe-bench"))
    for future in admin.delete_topics([settings.kafka_topic]).values():
        future.result(timeout=30)
