"""Producing, side by side on the same real-shaped tweets, each to a fresh topic:

* `collect replay`: the collector's whole path (read JSONL, parse, merge the includes into
  each tweet, serialize, produce), replaying the bundled real responses (the pool the
  real-shaped messages are drawn from) over and over until `count` tweets were sent;
* tweetpipe's producer alone (`kafka.TweetProducer.send`), the real-shaped messages already
  serialized;
* the seed's producer: kafka-python's `KafkaProducer` with the seed's JSON serializer, one
  `send` per tweet (as a dict), one `flush` at the end;
* Kafka's own `ProducerPerformance` (org.apache.kafka:kafka-tools, the broker's version) with
  `--record-size` the messages' mean size and the same count, tweetpipe's producer settings
  (acks=all, idempotence, zstd, linger 20 ms, 1 MB batches), `--throughput -1`.

Each is timed from its first send to the last acknowledgement.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from bench.data import mean_size
from bench.stack import isolated
from tweetpipe import kafka
from tweetpipe.collect.replay import replay
from tweetpipe.collect.stats import CollectStats
from tweetpipe.kafka.producer import PRODUCER_DEFAULTS
from tweetpipe.services import jars, system
from tweetpipe.settings import Settings

log = logging.getLogger(__name__)
PERF_LINE = re.compile(r"(\d+) records sent, ([\d.]+) records/sec")


def run(settings: Settings, messages: list[bytes], *, seed_count: int = 5_000
        ) -> dict[str, Any]:
    """Every producer on the same messages; the seed's (slow) on the first `seed_count`."""
    count = len(messages)
    size = round(mean_size(messages))
    steps = {
        "collect_replay": lambda: collect_replay(isolated(settings, "replay"), count),
        "tweetpipe_producer": lambda: tweetpipe_producer(isolated(settings, "producer"),
                                                         messages),
        "seed_producer": lambda: seed_producer(isolated(settings, "seed"),
                                               messages[:seed_count]),
        "kafka_producer_performance": lambda: producer_performance(
            isolated(settings, "perf"), count, size),
    }
    rates = {}
    for name, step in steps.items():
        rates[name] = step()
        log.info("produce: %s %.0f tweets/s", name, rates[name])
    return {"count": count, "seed_count": min(seed_count, count), "mean_size": mean_size(messages),
            "rates": {k: round(v) for k, v in rates.items()}}


def collect_replay(settings: Settings, count: int) -> float:
    """Tweets per second through `replay` of the bundled recordings, cycled to `count`."""
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as folder:
        files = _replay_files(Path(folder), count)
        stats = CollectStats()
        with kafka.TweetProducer(settings) as producer:
            began = time.perf_counter()
            replay(files, producer, stats=stats)
            producer.flush()
            seconds = time.perf_counter() - began
    return stats.tweets / seconds


def _replay_files(folder: Path, count: int) -> list[Path]:
    """The bundled recordings, copied as many times as it takes to hold `count` tweets (the
    last copy cut at the line reaching it)."""
    sources = sorted((p for p in resources.files("tweetpipe.data").iterdir()
                      if p.name.endswith(".jsonl")), key=lambda p: p.name)
    lines = [line for p in sources for line in p.read_bytes().splitlines() if line.strip()]
    out, total = folder / "replay.jsonl", 0
    with out.open("wb") as handle:
        while total < count:
            for line in lines:
                handle.write(line + b"\n")
                total += _tweets_in(line)
                if total >= count:
                    break
    return [out]


def _tweets_in(line: bytes) -> int:
    try:
        data = orjson.loads(line).get("data")
    except (orjson.JSONDecodeError, AttributeError):
        return 0
    return len(data) if isinstance(data, list) else 1 if isinstance(data, dict) else 0


def tweetpipe_producer(settings: Settings, messages: list[bytes]) -> float:
    keys = [str(orjson.loads(m)["id"]) for m in messages]
    with kafka.TweetProducer(settings) as producer:
        began = time.perf_counter()
        for key, value in zip(keys, messages, strict=True):
            producer.send(key, value)
        producer.flush()
        return len(messages) / (time.perf_counter() - began)


def seed_producer(settings: Settings, messages: list[bytes]) -> float:
    """The seed notebook's producer: KafkaProducer(value_serializer=json), `send` per tweet."""
    from kafka import KafkaProducer  # type: ignore[import-untyped]  # kafka-python (dev extra)

    tweets = [orjson.loads(m) for m in messages]
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers,
                             value_serializer=lambda v: json.dumps(v).encode("utf-8"))
    try:
        began = time.perf_counter()
        for tweet in tweets:
            producer.send(settings.kafka_topic, tweet)
        producer.flush()
        return len(tweets) / (time.perf_counter() - began)
    finally:
        producer.close()


def producer_performance(settings: Settings, count: int, size: int) -> float:
    java = system.require("java", "openjdk-17-jre-headless")
    classpath = ":".join(str(p) for p in jars.classpath(settings, "kafka"))
    props = {"bootstrap.servers": settings.kafka_bootstrap_servers,
             **{k: str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in PRODUCER_DEFAULTS.items() if k in JAVA_PROPS}}
    argv = [java, "-Xmx512m", "-cp", classpath, "org.apache.kafka.tools.ProducerPerformance",
            "--topic", settings.kafka_topic, "--num-records", str(count),
            "--record-size", str(size), "--throughput", "-1",
            "--producer-props", *(f"{k}={v}" for k, v in props.items())]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
    found = PERF_LINE.findall(done.stdout)
    if done.returncode != 0 or not found:
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        raise RuntimeError(f"ProducerPerformance failed ({done.returncode}): {tail}")
    return float(found[-1][1])


#: tweetpipe's producer settings that the Java client shares (the queue limits are librdkafka's)
JAVA_PROPS = frozenset({"enable.idempotence", "acks", "compression.type", "linger.ms",
                        "batch.size"})
