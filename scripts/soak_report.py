"""The soak's report, from its samples: pure functions (no I/O), unit-tested in tests/test_soak.py.

A sample is a dict: `t` (seconds since the start), `time` (ISO 8601), `rss_mb` (MB by process
name), `lag` (by partition), `lag_total`, `tweet_merge`, `tweet_transformed`, `dead_letters`,
`collected`. The verdict fits a least-squares line to each process's RSS after a warm-up and calls
it flat when it grows less than `flat_mb_per_hour` (shrinking is flat too).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

Sample = dict[str, Any]


@dataclass(frozen=True)
class Limits:
    warmup_s: float = 300.0  # JVMs and caches fill first: fitted from here on
    flat_mb_per_hour: float = 20.0
    lag_limit: int = 10_000  # most tweets behind (all partitions) that still counts as bounded


@dataclass(frozen=True)
class Memory:
    process: str
    first_mb: float
    last_mb: float
    max_mb: float
    slope_mb_per_hour: float
    flat: bool


@dataclass(frozen=True)
class Verdict:
    memory: list[Memory]
    lag_max: int
    lag_last: int
    lag_bounded: bool
    final: dict[str, int]
    counts_exact: bool
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of y over x (0.0 with fewer than two distinct x)."""
    if len({x for x, _ in points}) < 2:
        return 0.0
    return statistics.linear_regression([x for x, _ in points], [y for _, y in points]).slope


def memory(samples: Sequence[Sample], limits: Limits) -> list[Memory]:
    """Per process: its RSS slope in MB/hour over the samples after the warm-up (all of them
    when the run was shorter than the warm-up)."""
    names = sorted({name for s in samples for name in s["rss_mb"]})
    settled = [s for s in samples if s["t"] >= limits.warmup_s]
    fitted = settled if len(settled) >= 2 else list(samples)
    found = []
    for name in names:
        points = [(s["t"], s["rss_mb"][name]) for s in fitted if name in s["rss_mb"]]
        every = [s["rss_mb"][name] for s in samples if name in s["rss_mb"]]
        per_hour = slope(points) * 3600
        found.append(Memory(name, round(every[0], 1), round(every[-1], 1), round(max(every), 1),
                            round(per_hour, 1), per_hour < limits.flat_mb_per_hour))
    return found


def verdict(samples: Sequence[Sample], final: dict[str, int], limits: Limits) -> Verdict:
    """`final`: the counts after the run stopped (collected, tweet_merge, tweet_transformed,
    dead_letters)."""
    if not samples:
        return Verdict([], 0, 0, False, final, False, ["no samples"])
    mem = memory(samples, limits)
    lags = [int(s["lag_total"]) for s in samples]
    bounded = max(lags) <= limits.lag_limit
    exact = (final.get("collected", -1) == final.get("tweet_merge", -2)
             == final.get("tweet_transformed", -3) and final.get("dead_letters", 1) == 0
             and final.get("collected", 0) > 0)
    problems = [f"{m.process} grows {m.slope_mb_per_hour:+.1f} MB/hour" for m in mem
                if not m.flat]
    if not bounded:
        problems.append(f"lag reached {max(lags)} (limit {limits.lag_limit})")
    if not exact:
        problems.append(f"counts differ: {final}")
    return Verdict(mem, max(lags), lags[-1], bounded, final, exact, problems)


def table(samples: Sequence[Sample], processes: Sequence[str]) -> str:
    """A markdown table: one row per sample, RSS in MB per process, then lag and counts."""
    head = ["min", *processes, "lag", "collected", "tweet_merge", "tweet_transformed", "dead"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for s in samples:
        rss = [f"{s['rss_mb'][p]:.0f}" if p in s["rss_mb"] else "-" for p in processes]
        row = [f"{s['t'] / 60:.1f}", *rss, str(s["lag_total"]), str(s["collected"]),
               str(s["tweet_merge"]), str(s["tweet_transformed"]), str(s["dead_letters"])]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def markdown(samples: Sequence[Sample], result: Verdict, about: dict[str, Any]) -> str:
    """docs/soak.md: what ran, the verdict, the memory fits, the table over time."""
    state = "PASS" if result.ok else "FAIL: " + "; ".join(result.problems)
    mem_rows = ["| process | first MB | last MB | max MB | slope MB/hour | |",
                "|---|---:|---:|---:|---:|---|"]
    for m in result.memory:
        mem_rows.append(f"| {m.process} | {m.first_mb:.0f} | {m.last_mb:.0f} | {m.max_mb:.0f} | "
                        f"{m.slope_mb_per_hour:+.1f} | {'flat' if m.flat else 'GROWING'} |")
    processes = [m.process for m in result.memory]
    notes = "".join(f"\n{n}\n" for n in about.get("notes", []))
    return f"""# Soak: the live pipeline at a fixed rate

```
{about.get("command", "")}
```

Started {about.get("started", "?")}, {about.get("minutes", "?")} minutes at
{about.get("rate", "?")} synthetic tweets/s from the emulator's {about.get("source", "sample")}
stream through `tweetpipe run` (collector, loader, transform every
{about.get("transform_every", "?")} s, dashboard), sampled every {about.get("every", "?")} s.
Machine: {about.get("machine", "?")}.
{notes}
## Verdict: {state}

- Memory: a least-squares line through each process's RSS after the first
  {result_warmup(about)} min; flat when it grows less than {about.get("flat", "?")} MB/hour.
- Lag (tweets in Kafka not yet in tweet_merge, all partitions): max {result.lag_max},
  last sample {result.lag_last}: {"bounded" if result.lag_bounded else "NOT bounded"}
  (limit {about.get("lag_limit", "?")}).
- Counts after SIGTERM: {_counts(result.final)}: {"exact" if result.counts_exact else "NOT exact"}.

{chr(10).join(mem_rows)}

RSS is resident memory from /proc (psutil when installed); `postgres` is the server and all its
backends together: their private memory plus the shared pages (shared buffers) once;
`spark-jvm` is the transform's Spark driver JVM (heap at most 1 GB: `spark.driver.memory`).

## Over time

{table(samples, processes)}
"""


def result_warmup(about: dict[str, Any]) -> str:
    return f"{float(about.get('warmup_s', 0)) / 60:g}"


def _counts(final: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in final.items())


def as_json(samples: Sequence[Sample], result: Verdict, about: dict[str, Any]) -> dict[str, Any]:
    return {"about": about, "verdict": {**asdict(result), "ok": result.ok},
            "samples": list(samples)}
