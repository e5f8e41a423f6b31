"""Loader throughput, side by side in one run: tweetpipe's loader vs the notebook's loader.

    .venv/bin/python bench/load_throughput.py [--tweets 50000] [--naive-tweets 5000]

Starts (or reuses) the configured services, produces synthetic tweets to a fresh topic, then
loads them (a) with tweetpipe's exactly-once COPY + upsert loader into a fresh schema and (b)
with the seed notebook's approach — one INSERT and one commit per message, offsets left to Kafka
auto-commit — into another. Machines are shared and noisy: read the ratio, not the absolutes.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid

import orjson
from confluent_kafka import Consumer

from tweetpipe import db, kafka, services
from tweetpipe.collect.synthetic import produce_synthetic
from tweetpipe.kafka.configuration import client_config
from tweetpipe.load.loader import Loader, LoadOptions
from tweetpipe.settings import Settings, load_settings


def tweetpipe_loader(settings: Settings) -> float:
    """Messages per second from the first to the last committed batch."""
    return Loader(settings, LoadOptions(idle_seconds=3.0)).run().rate


def naive_loader(settings: Settings, limit: int) -> float:
    """The notebook's loop: INSERT one row and commit, per message."""
    with db.connect(settings, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS naive_merge (tweet_id bigint PRIMARY KEY,"
                     " text text, created_at timestamptz, raw jsonb)")
    consumer = Consumer(client_config(settings, "naive-loader", **{
        "group.id": f"naive-{uuid.uuid4().hex[:6]}", "auto.offset.reset": "earliest"}))
    consumer.subscribe([settings.kafka_topic])
    done, start = 0, None
    with db.connect(settings) as conn:
        while done < limit:
            msg = consumer.poll(5.0)
            if msg is None or msg.error():
                continue
            start = start or time.perf_counter()
            tweet = orjson.loads(msg.value())
            conn.execute("INSERT INTO naive_merge VALUES (%s, %s, %s, %s)"
                         " ON CONFLICT (tweet_id) DO NOTHING",
                         (int(tweet["id"]), tweet["text"], tweet.get("created_at"),
                          msg.value().decode()))
            conn.commit()
            done += 1
    consumer.close()
    return done / (time.perf_counter() - (start or time.perf_counter()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=50_000)
    parser.add_argument("--naive-tweets", type=int, default=5_000)
    args = parser.parse_args()
    base = load_settings()
    services.up(base)
    tag = uuid.uuid4().hex[:8]
    ours = base.model_copy(update={"kafka_topic": f"bench-{tag}", "db_schema": f"bench_{tag}",
                                   "kafka_group": f"bench-{tag}"})
    naive = ours.model_copy(update={"db_schema": f"bench_naive_{tag}"})
    db.migrate(ours)
    db.migrate(naive)
    kafka.ensure_topic(ours)
    with kafka.TweetProducer(ours) as producer:
        produce_synthetic(producer, args.tweets, seed=1)
    ours_rate = tweetpipe_loader(ours)
    naive_rate = naive_loader(naive, args.naive_tweets)
    print(json.dumps({"tweets": args.tweets, "tweetpipe_msgs_per_s": round(ours_rate),
                      "naive_msgs_per_s": round(naive_rate),
                      "ratio": round(ours_rate / max(naive_rate, 1e-9), 1)}))


if __name__ == "__main__":
    main()
