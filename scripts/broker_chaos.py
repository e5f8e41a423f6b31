"""kill -9 one Kafka broker (or the active controller) while N tweets are collected and loaded.

    .venv/bin/tweetpipe services up --brokers 3          # KAFKA_BROKERS=3 in .env or exported
    KAFKA_BROKERS=3 KAFKA_TOPIC=broker-chaos-1 .venv/bin/python scripts/broker_chaos.py \\
        --tweets 100000 --kill controller

Needs a Kafka cluster of 3 or more nodes this home started (`services up --brokers 3`). Creates
the topic (3 replicas, min.insync.replicas=2) and produces N synthetic tweets through the
idempotent acks=all producer, paced over `--seconds`, while a loader loads them into
tweet_merge. Once 15 % are sent it kills one node with SIGKILL: a broker that leads a partition
of the topic and is not the active controller (`--kill broker`), or the active controller
(`--kill controller`). The node stays down until 75 % are sent (at least until the cluster has
fenced it and the pipeline went on: every partition took writes and the loader loaded rows),
then is restarted and the cluster waits until no partition is under-replicated.
Checks: exactly N distinct rows in tweet_merge, none missing or duplicated, stored offsets at
the log end, no dead letters, exactly N messages in the log (idempotence), and that while the
node was down every partition took writes and the loader loaded rows. Prints a JSON summary;
exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import chaos_load  # scripts/ is on the path: these scripts run as files
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, ConfigResource  # type: ignore[attr-defined]

from tweetpipe import db, kafka, retry
from tweetpipe.collect.synthetic import synthetic_records
from tweetpipe.errors import KafkaError
from tweetpipe.kafka.admin import cluster_health
from tweetpipe.load import lag
from tweetpipe.load.loader import Loader, LoadOptions
from tweetpipe.services import kafka_cluster
from tweetpipe.settings import Settings, load_settings


class Producing(threading.Thread):
    """Sends N synthetic tweets at a steady pace, then flushes; counts sent and acknowledged."""

    def __init__(self, settings: Settings, tweets: int, seconds: float, seed: int) -> None:
        super().__init__(name="producer", daemon=True)
        self.producer = kafka.TweetProducer(settings)
        self.tweets, self.rate, self.seed = tweets, tweets / max(seconds, 0.1), seed
        self.error: BaseException | None = None

    def run(self) -> None:
        started = time.monotonic()
        try:
            for sent, record in enumerate(synthetic_records(self.tweets, seed=self.seed), 1):
                self.producer.send_record(record)
                ahead = sent / self.rate - (time.monotonic() - started)
                if ahead > 0.02:
                    time.sleep(ahead)  # pacing, not waiting for anything
            self.producer.flush(timeout=600)
        except BaseException as exc:  # reported in the summary
            self.error = exc


class Loading(threading.Thread):
    """Loaders until stopped. One that fails is replaced after a second, as `tweetpipe run`
    would restart it, and its error is kept: the loader alone should never need that."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(name="loader", daemon=True)
        self.settings = settings
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.loader = self._new()
        self._earlier_rows = 0
        self._ran = False

    def _new(self) -> Loader:
        return Loader(self.settings, LoadOptions(batch_messages=2000), stop=self.stop)

    @property
    def rows(self) -> int:
        return self._earlier_rows + self.loader.stats.rows

    def run(self) -> None:
        try:
            retry.call(self._load, retry_on=Exception, delay=1.0, stop=self.stop,
                       on_retry=self._failed, what="the loader to run")
        except Exception as exc:  # stopped after a failure: reported in the summary
            self.errors.append(_text(exc) or "")

    def _load(self) -> None:
        if self._ran:  # a loader runs once: replace the one that failed
            self._earlier_rows += self.loader.stats.rows
            self.loader = self._new()
        self._ran = True
        self.loader.run()

    def _failed(self, attempt: retry.Attempt) -> None:
        self.errors.append(_text(attempt.error) or "")


def wait(condition: Callable[[], bool], what: str, timeout: float) -> None:
    retry.until(condition, delay=0.2, timeout=timeout, what=what)


def high_watermarks(settings: Settings) -> dict[int, int]:
    """Each partition's log end, -1 where its leader cannot answer."""
    partitions = range(settings.kafka_partitions)
    consumer = Consumer(kafka.client_config(settings, "broker-chaos", **{
        "group.id": "broker-chaos", "log_level": 0}))
    try:
        marks = {}
        for p in partitions:
            try:
                marks[p] = kafka.partition_watermarks(consumer, settings.kafka_topic, p)[1]
            except KafkaError:  # its leader is lost or moving
                marks[p] = -1
        return marks
    finally:
        consumer.close()


def topic_metadata(settings: Settings) -> Any:
    """The topic's metadata once the broker asked knows every partition (a new topic reaches
    the brokers one by one)."""
    admin = AdminClient(kafka.client_config(settings, "broker-chaos"))
    found: list[Any] = []

    def known() -> bool:
        meta = admin.list_topics(settings.kafka_topic, timeout=10).topics[settings.kafka_topic]
        found[:] = [meta]
        return len(meta.partitions) == settings.kafka_partitions

    wait(known, f"every partition of {settings.kafka_topic} in the metadata", 30)
    return found[0]


def victim(settings: Settings, kind: str) -> int:
    """The node to kill: the active controller, or a partition leader that is not it."""
    controller = kafka_cluster.active_controller(settings)
    if kind == "controller":
        if controller is None:
            raise SystemExit("no running node knows the active controller")
        return controller
    meta = topic_metadata(settings)
    leaders = sorted({p.leader for p in meta.partitions.values() if p.leader >= 0} - {controller})
    if not leaders:
        raise SystemExit(f"every partition is led by the controller {controller}")
    return int(leaders[0])


def topic_replication(settings: Settings) -> dict[str, Any]:
    admin = AdminClient(kafka.client_config(settings, "broker-chaos"))
    meta = topic_metadata(settings)
    resource = ConfigResource("topic", settings.kafka_topic)
    configs = admin.describe_configs([resource])[resource].result(timeout=10)
    return {"replicas": min(len(p.replicas) for p in meta.partitions.values()),
            "min_insync_replicas": int(configs["min.insync.replicas"].value)}


def outage(settings: Settings, node: int, producing: Producing, loading: Loading
           ) -> dict[str, Any]:
    """Kill `node` once 15 % are sent; keep it down until the cluster has fenced it, every
    partition took writes and the loader loaded rows again (or 90 s passed), and 75 % are
    sent; then restart it and wait until every partition is fully replicated."""
    wait(lambda: producing.producer.sent >= producing.tweets * 0.15, "15 % sent", 300)
    killed = time.monotonic()
    kafka_cluster.kill_node(settings, node)
    wait(lambda: node not in _live_brokers(settings), f"node {node} to be fenced", 60)
    fenced = time.monotonic() - killed
    before = (answering_marks(settings), producing.producer.delivered, loading.rows)
    recovered = until_recovered(settings, before[0], before[2], loading, timeout=90)
    wait(lambda: producing.producer.sent >= producing.tweets * 0.75, "75 % sent", 600)
    after = (high_watermarks(settings), producing.producer.delivered, loading.rows)
    down = time.monotonic() - killed
    kafka_cluster.start_node(settings, node)
    kafka_cluster.wait_in_sync(settings, timeout=180)
    return {"killed_node": node, "fenced_after_s": round(fenced, 1),
            "recovered_after_s": None if recovered is None else round(recovered - killed, 1),
            "down_s": round(down, 1), "in_sync_after_s": round(time.monotonic() - killed, 1),
            "partitions_written_during_outage": sum(
                1 for p, high in after[0].items() if high > before[0].get(p, -1) >= 0),
            "acked_during_outage": after[1] - before[1],
            "loaded_during_outage": after[2] - before[2]}


def answering_marks(settings: Settings) -> dict[int, int]:
    """Log ends once every partition's (new) leader answers; -1 for those that do not
    within 15 s."""
    found: dict[int, int] = {}

    def answering() -> bool:
        found.update(high_watermarks(settings))
        return min(found.values()) >= 0

    with contextlib.suppress(retry.WaitTimeout):
        retry.until(answering, delay=0.5, timeout=15, what="every partition to answer")
    return found


def until_recovered(settings: Settings, marks: dict[int, int], rows: int, loading: Loading,
                    *, timeout: float) -> float | None:
    """When every partition took writes past `marks` and the loader loaded past `rows`
    (monotonic time), or None if that did not happen within `timeout`."""
    def recovered() -> bool:
        now = high_watermarks(settings)
        return loading.rows > rows and all(
            now[p] > high >= 0 for p, high in marks.items())

    try:
        retry.until(recovered, delay=0.5, timeout=timeout, what="the pipeline to go on")
    except retry.WaitTimeout:
        return None
    return time.monotonic()


def _live_brokers(settings: Settings) -> frozenset[int]:
    return cluster_health(settings, timeout=5.0).brokers


def check(settings: Settings, tweets: int) -> dict[str, Any]:
    """chaos_load's exactly-once check, plus the cluster's under-replicated partitions."""
    return {**chaos_load.check(settings, tweets),
            "under_replicated": cluster_health(settings).under_replicated}


def passed(result: dict[str, Any]) -> bool:
    n = result["tweets"]
    return (result["rows"] == result["distinct"] == result["log_end_total"] == n
            and result["dead_letters"] == 0 and result["offsets_at_log_end"]
            and result["under_replicated"] == 0 and result["producer_error"] is None
            and not result["loader_errors"] and result["replicas"] >= 3
            and result["recovered_after_s"] is not None
            and result["partitions_written_during_outage"] == result["partitions"]
            and result["loaded_during_outage"] > 0)


def run(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    db.migrate(settings)
    kafka.ensure_topic(settings)
    node = victim(settings, args.kill)
    producing, loading = Producing(settings, args.tweets, args.seconds, args.seed), Loading(
        settings)
    started = time.monotonic()
    producing.start()
    loading.start()
    result = {"kill": args.kill, "partitions": settings.kafka_partitions,
              "controller_before": kafka_cluster.active_controller(settings),
              **topic_replication(settings), **outage(settings, node, producing, loading),
              "controller_after": kafka_cluster.active_controller(settings)}
    producing.join(timeout=900)
    result["produced_s"] = round(time.monotonic() - started, 1)
    with contextlib.suppress(retry.WaitTimeout):  # the check below says how far it got
        wait(lambda: lag.loaded_to_log_end(settings), "the loader to reach the log end", 300)
    loading.stop.set()
    loading.join(timeout=120)
    result.update(check(settings, args.tweets), seconds=round(time.monotonic() - started, 1),
                  producer_error=_text(producing.error), loader_errors=loading.errors)
    return result


def _text(error: BaseException | None) -> str | None:
    return None if error is None else f"{type(error).__name__}: {error}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=100_000)
    parser.add_argument("--kill", choices=("broker", "controller"), default="broker")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="spread the production over this many seconds")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    settings = load_settings()
    if len(kafka_cluster.nodes(settings)) < 3:
        parser.error("needs KAFKA_BROKERS=3 (or more) and a cluster started by "
                     "`tweetpipe services up --brokers 3` in this TWEETPIPE_HOME")
    result = run(settings, args)
    print(json.dumps(result))
    return 0 if passed(result) else 1


if __name__ == "__main__":
    sys.exit(main())
