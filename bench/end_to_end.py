"""End to end: the emulator's synthetic filtered stream at an offered rate → `tweetpipe run
stream` (collector, loader, transform micro-batches on a warm Spark session, each a process of
its own) → tweet_merge → tweet_transformed.

One run per offered rate, each on its own topic and schema with a fresh emulator. After the
pipeline has warmed up (the first row in tweet_transformed), a window of `seconds` is
measured; then the run stops as `tweetpipe run` does (collector, loader after draining,
transform after a last micro-batch). For every tweet collected in the window:

* to `tweet_merge`: the commit time of its row (`pg_xact_commit_timestamp(xmin)`, PostgreSQL
  runs with track_commit_timestamp) minus its collection time (`collected_at`, from the
  record's provenance);
* to `tweet_transformed`: the commit time of its transformed row minus the same collection
  time.

Rates in the window: generated (by the emulator: tweets created in it), collected, committed to
tweet_merge and to tweet_transformed. A rate is sustained when at least 95 % of it is collected
in the window and the tweets collected then reach tweet_merge with p99 < 2 s and
tweet_transformed with p99 < 10 s (a pipeline that falls behind shows as growing latencies).
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from pydantic import SecretStr

from bench import report
from bench.memory import Sampler
from bench.stack import isolated
from tweetpipe import db
from tweetpipe.load import lag
from tweetpipe.run import live
from tweetpipe.services import process
from tweetpipe.settings import Settings

log = logging.getLogger(__name__)
TOKEN_ENV = "TWEETPIPE_EMULATOR_TOKEN"
WARM_TIMEOUT_S = 240.0
ARRIVAL_TIMEOUT_S = 90.0
TRANSFORM_EVERY_S = live.RunOptions({}).transform_every  # tweetpipe run's default
SETTLE_S = 5.0
DRAIN_TIMEOUT_S = 120.0
#: how long the emulator keeps its synthetic tweets: a minute, not X's 5-minute backfill window
#: (the bench's collector asks for no backfill), so the emulator's memory levels off within
#: the first fifth of the long run, as the memory figures require of every process
EMULATOR_KEEP_S = 60.0


def run(settings: Settings, rates: list[int], seconds: float, long_seconds: float,
        sampler: Sampler, transform_every: float = TRANSFORM_EVERY_S) -> dict[str, Any]:
    """Every rate on one `tweetpipe run` (one warm Spark session, as a live run has), the
    emulator restarted at each rate on the same port; between rates the pipeline drains."""
    own = isolated(settings, "e2e")
    token, port = secrets.token_hex(16), process.free_ports(1)[0]
    url = f"http://127.0.0.1:{port}"
    run_settings = own.model_copy(update={"x_api_base_url": url,
                                          "bearer_token": SecretStr(token)})
    stop = threading.Event()
    thread = threading.Thread(
        target=live.run, name="bench-run", daemon=True,
        args=(run_settings, live.RunOptions({"source": "stream"},
                                            transform_every=transform_every, port=None),
              stop), kwargs={"on_event": log.info})
    runs: list[dict[str, Any]] = []
    long_run = None
    try:
        with sampler.during("end to end warm-up"), Emulator(port, min(rates), token):
            thread.start()
            _wait_for(own, thread, "SELECT EXISTS (SELECT 1 FROM tweet_transformed)", ())
        _drain(own)
        for rate in rates:
            with sampler.during(f"end to end {rate}/s"):
                runs.append(_attempt(own, thread, port, token, rate, seconds, sampler))
            log.info("end to end at %d/s: %s", rate, runs[-1].get("rates", runs[-1]))
        sustained = [r["offered"] for r in runs if r.get("sustained")]
        if long_seconds > 0:
            best = max(sustained, default=min(rates))
            with sampler.during("long run"):
                long_run = _attempt(own, thread, port, token, best, long_seconds, sampler)
    finally:
        stop.set()
        thread.join(timeout=300)
    return {"runs": runs, "long_run": long_run, "transform_every_s": transform_every,
            "highest_sustained": max((r["offered"] for r in runs if r.get("sustained")),
                                     default=None)}


def _attempt(settings: Settings, thread: threading.Thread, port: int, token: str, rate: int,
             seconds: float, sampler: Sampler) -> dict[str, Any]:
    """`one_rate`, or what went wrong at that rate (the other rates still run)."""
    try:
        return one_rate(settings, thread, port, token, rate, seconds, sampler)
    except RuntimeError as exc:
        log.error("end to end at %d/s: %s", rate, exc)
        _drain(settings)
        return {"offered": rate, "error": str(exc), "sustained": False}


def one_rate(settings: Settings, thread: threading.Thread, port: int, token: str, rate: int,
             seconds: float, sampler: Sampler) -> dict[str, Any]:
    """A fresh emulator at `rate`; once its tweets arrive and a few seconds settled, measure a
    window of `seconds`; stop the emulator, let the pipeline drain, then read the figures."""
    with Emulator(port, rate, token):
        switched = datetime.now(UTC)
        _wait_for(settings, thread, "SELECT EXISTS (SELECT 1 FROM tweet_merge"
                  " WHERE collected_at > %s)", (switched,), ARRIVAL_TIMEOUT_S)
        time.sleep(SETTLE_S)
        began, start = time.monotonic(), datetime.now(UTC)
        time.sleep(seconds)
        ended, end = time.monotonic(), datetime.now(UTC)
    drained = _drain(settings)
    result = measure(settings, start, end)
    result.update(offered=rate, seconds=(end - start).total_seconds(), drain_s=drained,
                  cpu_seconds=sampler.cpu_between(began, ended))
    result["sustained"] = report.sustains(
        rate, result["rates"]["collected"], result["latency"]["merge"]["p99_s"],
        result["latency"]["transformed"]["p99_s"])
    return result


class Emulator:
    """`tweetpipe-emulator --synthetic RATE` in a process of its own (its own GIL) on `port`,
    keeping EMULATOR_KEEP_S of its tweets, with a filtered-stream rule matching every
    synthetic tweet."""

    def __init__(self, port: int, rate: int, token: str) -> None:
        self.port, self.rate, self.token = port, rate, token
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Emulator:
        rule = match_all_rule()  # before the emulator serves: the collector, reconnecting, must
        # not find it without a rule (409, and the collector stops) for longer than a request
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tweetpipe_emulator", "--port", str(self.port),
             "--synthetic", str(self.rate), "--synthetic-keep", str(EMULATOR_KEEP_S),
             "--ready-json"],
            stdout=subprocess.PIPE, env={**os.environ, TOKEN_ENV: self.token})
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            raise RuntimeError(f"the emulator did not start (exit {self.proc.returncode})")
        add_rule(str(orjson.loads(line)["url"]), self.token, rule)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def _drain(settings: Settings, timeout: float = DRAIN_TIMEOUT_S) -> float:
    """Wait until every loaded row is transformed and Kafka is drained (the emulator is
    stopped); the seconds it took."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        with db.connect(settings, autocommit=True) as conn:
            row = conn.execute("SELECT (SELECT count(*) FROM tweet_merge),"
                               " (SELECT count(*) FROM tweet_transformed)").fetchone()
        if row and row[0] == row[1] and lag.loaded_to_log_end(settings):
            return round(time.monotonic() - began, 1)
        time.sleep(1.0)
    log.warning("the pipeline did not drain within %.0f s", timeout)
    return timeout


def add_rule(url: str, token: str, rule: str) -> None:
    """Add the filtered-stream rule `rule`."""
    response = httpx.post(f"{url}/2/tweets/search/stream/rules",
                          headers={"Authorization": f"Bearer {token}"},
                          json={"add": [{"value": rule, "tag": "bench"}]})
    body = response.json()
    if response.status_code >= 300 or body.get("meta", {}).get("summary", {}).get("valid") != 1:
        raise RuntimeError(f"the emulator refused the rule: {body}")


@functools.cache
def match_all_rule(sample: int = 2000) -> str:
    """A rule that matches every synthetic tweet (the emulator's own `match_all_query` over
    the first tweets of its seed)."""
    from tweetpipe.collect.synthetic import SyntheticSource
    from tweetpipe_emulator import Emulator, EmulatorOptions
    from tweetpipe_emulator.cli import match_all_query

    emulator = Emulator(EmulatorOptions(port=0, data_files=()))
    emulator.add_synthetic(SyntheticSource(0), sample)
    return match_all_query(emulator.state.store)


def _wait_for(settings: Settings, thread: threading.Thread, query: str,
              params: tuple[Any, ...], timeout: float = WARM_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("tweetpipe run stopped")
        with db.connect(settings, autocommit=True) as conn:
            row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]
        if row and row[0]:
            return
        time.sleep(0.5)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for: {query}")


WINDOW_SQL = """
SELECT extract(epoch FROM m.created_at)::float8,
       extract(epoch FROM m.collected_at)::float8,
       extract(epoch FROM pg_xact_commit_timestamp(m.xmin))::float8,
       extract(epoch FROM pg_xact_commit_timestamp(t.xmin))::float8
FROM tweet_merge m LEFT JOIN tweet_transformed t USING (tweet_id)
"""


def measure(settings: Settings, start: datetime, end: datetime) -> dict[str, Any]:
    with db.connect(settings, autocommit=True) as conn:
        rows: list[tuple[float | None, float, float, float | None]] = conn.execute(
            WINDOW_SQL).fetchall()
    return window_figures(rows, start.timestamp(), end.timestamp())


def window_figures(rows: list[tuple[float | None, float, float, float | None]],
                   start: float, end: float) -> dict[str, Any]:
    """Rates and latencies of a window from (created, collected, merged, transformed) epoch
    seconds per tweet (transformed None: never transformed)."""
    span = end - start

    def within(value: float | None) -> bool:
        return value is not None and start <= value < end

    collected = [r for r in rows if within(r[1])]
    merge = report.latency(r[2] - r[1] for r in collected)
    transformed = report.latency(None if r[3] is None else r[3] - r[1] for r in collected)
    merge_from_creation = report.latency(r[2] - r[0] for r in collected if r[0] is not None)
    return {
        "rates": {"generated": sum(within(r[0]) for r in rows) / span,
                  "collected": len(collected) / span,
                  "merged": sum(within(r[2]) for r in rows) / span,
                  "transformed": sum(within(r[3]) for r in rows) / span},
        "latency": {"merge": merge.as_dict(), "transformed": transformed.as_dict(),
                    "merge_from_creation": merge_from_creation.as_dict(),
                    "merge_to_transformed_p50_s": _p50_gap(collected)},
        "rows": len(rows),
    }


def _p50_gap(rows: list[tuple[float | None, float, float, float | None]]) -> float | None:
    gaps = [r[3] - r[2] for r in rows if r[3] is not None]
    found = report.percentile(gaps, 50)
    return None if found is None else round(found, 3)
