"""kill -9 the loader at random moments while it loads N tweets; then check exactly-once.

    KAFKA_TOPIC=chaos-1 .venv/bin/python scripts/chaos_load.py --tweets 100000 --kills 20

Uses the configured services (run `tweetpipe services up` first). Produces N synthetic tweets to
the topic in the background while a `tweetpipe load` subprocess is started and killed with
SIGKILL `--kills` times, then runs one loader to the end and checks: exactly N distinct rows in
tweet_merge, none missing, none duplicated, stored offsets equal to the log end, no dead letters.
Prints a JSON summary; exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import threading
import time

from tweetpipe import db, kafka
from tweetpipe.collect.synthetic import produce_synthetic
from tweetpipe.load import lag
from tweetpipe.settings import Settings, load_settings


def loader(instance: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tweetpipe.cli", "load", "--until-idle", "--idle-seconds", "2",
         "--instance-id", instance],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def check(settings: Settings, tweets: int) -> dict[str, object]:
    with db.connect(settings, autocommit=True) as conn:
        rows, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT tweet_id) FROM tweet_merge").fetchone() or (0, 0)
        dead = (conn.execute("SELECT count(*) FROM dead_letters").fetchone() or (0,))[0]
        positions = lag.topic_positions(settings, conn)
    return {"tweets": tweets, "rows": rows, "distinct": distinct, "dead_letters": dead,
            "offsets_at_log_end": lag.total_lag(positions) == 0,
            "log_end_total": sum(p.log_end for p in positions)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=100_000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-gap", type=float, default=2.5, help="seconds between kills, max")
    args = parser.parse_args()
    settings = load_settings()
    db.migrate(settings)
    kafka.ensure_topic(settings)
    rng = random.Random(args.seed)

    def produce() -> None:
        with kafka.TweetProducer(settings) as producer:
            produce_synthetic(producer, args.tweets, seed=args.seed)

    producer = threading.Thread(target=produce)
    producer.start()
    started = time.monotonic()
    for _ in range(args.kills):
        proc = loader("chaos-loader")
        time.sleep(rng.uniform(0.5, args.max_gap))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    producer.join()
    final = loader("chaos-loader")
    final.wait(timeout=600)
    result = check(settings, args.tweets)
    result.update(kills=args.kills, seconds=round(time.monotonic() - started, 1),
                  final_exit=final.returncode)
    print(json.dumps(result))
    ok = (result["rows"] == result["distinct"] == args.tweets and result["dead_letters"] == 0
          and result["offsets_at_log_end"] and final.returncode == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
