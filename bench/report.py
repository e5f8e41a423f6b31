"""The benchmark's arithmetic and its outputs: percentiles, rates, ratios, flatness of memory,
and the results as a terminal table, a Markdown page (docs/benchmarks.md) and JSON.

Pure functions only (no services), so tests/bench/ checks them without Kafka or PostgreSQL.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Row = tuple[str, str, str]  # (what, how, result)
NONE = "n/a"


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation between closest ranks (numpy's
    default); None for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Latency:
    """Latencies in seconds of the rows that arrived, and how many never did."""

    count: int
    missing: int
    p50: float | None
    p99: float | None
    max: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "missing": self.missing, "p50_s": _r(self.p50),
                "p99_s": _r(self.p99), "max_s": _r(self.max)}


def latency(seconds: Iterable[float | None]) -> Latency:
    """Summarise per-row latencies; None is a row that never arrived (it counts as missing and
    makes p99 infinite once it is more than 1 % of the rows)."""
    values: list[float] = []
    missing = 0
    for value in seconds:
        if value is None:
            missing += 1
        else:
            values.append(value)
    total = len(values) + missing
    p99 = percentile(values, 99) if values else None
    if total and missing / total > 0.01:
        p99 = math.inf
    return Latency(len(values), missing, percentile(values, 50), p99,
                   max(values) if values else None)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def sustains(offered: float, rate: float, merge_p99: float | None,
             transformed_p99: float | None, *, merge_bound: float = 2.0,
             transformed_bound: float = 10.0, share: float = 0.95) -> bool:
    """Does a run keep up: at least `share` of the offered rate collected, with both p99
    latencies (collection to tweet_merge, to tweet_transformed) within their bounds?"""
    return (rate >= share * offered
            and merge_p99 is not None and merge_p99 < merge_bound
            and transformed_p99 is not None and transformed_p99 < transformed_bound)


def growth(samples: Sequence[tuple[float, float]], *, skip: float = 0.2) -> dict[str, Any]:
    """Is memory flat? `samples` are (seconds, bytes). After the first `skip` of the run
    (warm-up: JIT, caches, buffers filling), fit a line: its slope in MiB per minute, and the
    growth it predicts over that span against the mean. Flat: less than 5 % or 16 MiB."""
    if len(samples) < 4:
        return {"slope_mib_per_min": None, "growth_mib": None, "flat": None}
    start = samples[0][0] + (samples[-1][0] - samples[0][0]) * skip
    kept = [(t, b / 2**20) for t, b in samples if t >= start]
    if len(kept) < 3:
        return {"slope_mib_per_min": None, "growth_mib": None, "flat": None}
    mean_m = statistics.fmean(m for _, m in kept)
    times = [t for t, _ in kept]
    slope = (statistics.linear_regression(times, [m for _, m in kept]).slope
             if len(set(times)) > 1 else 0.0)
    grown = slope * (kept[-1][0] - kept[0][0])
    flat = grown < max(16.0, 0.05 * mean_m)
    return {"slope_mib_per_min": round(slope * 60, 2), "growth_mib": round(grown, 1),
            "mean_mib": round(mean_m, 1), "flat": flat}


def _r(value: float | None, digits: int = 3) -> float | str | None:
    if value is None:
        return None
    if math.isinf(value):
        return "inf"
    return round(value, digits)


def fmt_rate(value: float | None) -> str:
    return NONE if value is None else f"{value:,.0f}/s"


def fmt_s(value: float | str | None) -> str:
    if value is None:
        return NONE
    if value == "inf" or (isinstance(value, float) and math.isinf(value)):
        return "∞"
    return f"{float(value):.2f} s"


def fmt_ratio(value: float | None) -> str:
    return NONE if value is None else f"{value:.0%}" if value < 10 else f"{value:.1f}x"


def fmt_mib(value: float | None) -> str:
    return NONE if value is None else f"{value / 2**20:,.0f} MiB"


# -- rows of the table ----------------------------------------------------------------------

def produce_rows(produce: Mapping[str, Any]) -> list[Row]:
    if not produce:
        return []
    rates = produce["rates"]
    base = rates.get("kafka_producer_performance")
    how = (f"{produce['count']:,} real-shaped tweets, mean {produce['mean_size']:,.0f} B; "
           "ratio to Kafka's ProducerPerformance (same size and count, acks=all, idempotent)")
    names = {"collect_replay": "produce: `collect replay` (parse, merge, produce)",
             "tweetpipe_producer": "produce: tweetpipe's producer (`TweetProducer.send`)",
             "seed_producer": "produce: the seed's producer (kafka-python, one `send` each)",
             "kafka_producer_performance": "produce: Kafka's ProducerPerformance"}
    seed_how = how.replace(f"{produce['count']:,}", f"the first {produce.get('seed_count', 0):,}")
    return [(names.get(name, name), seed_how if name == "seed_producer" else how,
             f"{fmt_rate(rate)} ({fmt_ratio(ratio(rate, base))})")
            for name, rate in rates.items()]


def load_rows(load: Mapping[str, Any]) -> list[Row]:
    """bench/load.py's result: `loaders` by name, each with `tweets_per_s`, `ratio_to_copy`."""
    if not load:
        return []
    if "error" in load:
        return [("load", "bench/load.py", f"failed: {load['error']}")]
    how = (f"{load.get('messages', 0):,} real-shaped tweets, mean "
           f"{load.get('mean_message_bytes', 0):,} B; ratio to a bare COPY of the same rows")
    found: list[Row] = []
    for name, facts in (load.get("loaders") or {}).items():
        share = facts.get("ratio_to_copy")
        found.append((f"load: {name}", how, f"{fmt_rate(facts.get('tweets_per_s'))}"
                      + (f" ({fmt_ratio(share)})" if share is not None else "")
                      + cpu_text(facts.get("cpu") or {}, load.get("cpus"))))
    return found


def cpu_text(cpu: Mapping[str, Any], cpus: int | None) -> str:
    """'; CPU 358 µs/tweet (loader 207, postgresql 129, kafka 21): at most 5,587/s on 2
    cores' from bench/load.py's `cpu_per_tweet`, or '' without it."""
    per = cpu.get("us_per_tweet")
    if not per:
        return ""
    parts = ", ".join(f"{name} {value:,.0f}" for name, value in per.items())
    return (f"; CPU {cpu['total_us_per_tweet']:,.0f} µs/tweet ({parts}): at most "
            f"{fmt_rate(cpu.get('ceiling_per_s'))} on {cpus} cores")


def end_to_end_rows(runs: Sequence[Mapping[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    for run in runs:
        if "error" in run:
            rows.append((f"end to end @ {run['offered']:,}/s", "", f"failed: {run['error']}"))
            continue
        merge, transformed = run["latency"]["merge"], run["latency"]["transformed"]
        how = (f"emulator's synthetic filtered stream at {run['offered']:,}/s for "
               f"{run['seconds']:.0f} s → collect → Kafka → load → transform")
        verdict = "sustained" if run["sustained"] else "NOT sustained"
        rows.append((f"end to end @ {run['offered']:,}/s", how,
                     f"{verdict}: generated {fmt_rate(run['rates']['generated'])}, "
                     f"collected {fmt_rate(run['rates']['collected'])}, "
                     f"to tweet_transformed {fmt_rate(run['rates']['transformed'])}; "
                     f"tweet_merge p50/p99 {fmt_s(merge['p50_s'])}/{fmt_s(merge['p99_s'])}, "
                     f"tweet_transformed p50/p99 {fmt_s(transformed['p50_s'])}/"
                     f"{fmt_s(transformed['p99_s'])}"))
    return rows


def transform_rows(transform: Mapping[str, Any]) -> list[Row]:
    if not transform:
        return []
    full, inc = transform["full_s"], transform["incremental_s"]
    micro = transform.get("micro_batch_s") or {}
    return [
        ("transform: full run", f"{transform['rows']:,} rows in tweet_merge",
         f"{fmt_s(full)} ({fmt_rate(transform['rows'] / full if full else None)})"),
        ("transform: 1 % incremental", f"{transform['incremental_rows']:,} new rows on top",
         f"{fmt_s(inc)} = {fmt_ratio(ratio(inc, full))} of the full run"),
        ("transform: micro-batch, warm session",
         f"{transform.get('micro_batch_rows', 0):,} new rows each, "
         f"{len(micro.get('runs', []))} runs", f"p50 {fmt_s(micro.get('p50_s'))}, "
         f"max {fmt_s(micro.get('max_s'))}"),
    ]


def memory_rows(memory: Mapping[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for label, facts in sorted(memory.get("peaks", {}).items()):
        flat = memory.get("flatness", {}).get(label, {})
        verdict = ("" if flat.get("flat") is None else
                   f"; long run {'flat' if flat['flat'] else 'GROWING'} "
                   f"({flat['slope_mib_per_min']:+.1f} MiB/min)")
        rows.append((f"memory: {label}", "peak over the whole bench (RSS; PostgreSQL: PSS "
                     "summed over its processes)", f"{fmt_mib(facts['peak'])}{verdict}"))
    return rows


def rows(results: Mapping[str, Any]) -> list[Row]:
    return [*produce_rows(results.get("produce") or {}),
            *load_rows(results.get("load") or {}),
            *end_to_end_rows(results.get("end_to_end", {}).get("runs", [])),
            *transform_rows(results.get("transform") or {}),
            *memory_rows(results.get("memory") or {})]


def text_table(table: Sequence[Row]) -> str:
    """A plain table for the terminal: what | result (the how goes to the Markdown page)."""
    width = max((len(what) for what, _, _ in table), default=0)
    return "\n".join(f"{what.ljust(width)}  {result}" for what, _, result in table)


def markdown_table(table: Sequence[Row]) -> str:
    lines = ["| what | how | result |", "|---|---|---|"]
    lines += [f"| {_cell(a)} | {_cell(b)} | {_cell(c)} |" for a, b, c in table]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# -- the Markdown page ------------------------------------------------------------------------

METHOD = """\
## How it is measured

- **Data**: real-shaped tweets (`bench/data.py`): the bundled real X API v2 responses split
  into records as the collector makes them, drawn at random (seeded), every tweet id fresh.
- **Services**: a Kafka broker and a PostgreSQL of the bench's own, on free ports in a fresh
  `TWEETPIPE_HOME`, stopped at the end. PostgreSQL runs with `track_commit_timestamp = on`:
  a row's commit time is `pg_xact_commit_timestamp(xmin)`, the truth, not its transaction's
  start (`loaded_at`).
- **Produce**: each producer to a topic of its own, timed from the first send to the last
  acknowledgement; Kafka's `ProducerPerformance` at `--record-size` = the messages' mean size,
  the same count, tweetpipe's producer settings (acks=all, idempotent, zstd, linger 20 ms).
- **End to end**: one `tweetpipe run stream` (collector, loader, transform micro-batches
  started every `--transform-every` seconds, 5 by default, on one warm Spark session, each a
  process of its own) on a topic and schema of its own, against the emulator's synthetic
  filtered stream (`--synthetic RATE`, its own process, a rule matching every synthetic
  tweet), restarted at each offered rate on the same port. At
  each rate, once its tweets arrive and 5 s settled, a window is measured; then the emulator
  stops and the pipeline drains before the next rate. Latencies are per tweet collected in
  the window, from its `collected_at` (provenance) to the commit of its `tweet_merge` row and
  of its `tweet_transformed` row. Sustained: >= 95 % of the offered rate collected in the
  window, p99 < 2 s to `tweet_merge` and < 10 s to `tweet_transformed`. The profile is the CPU
  seconds each process used in the window.
- **Transform**: 100,000 real-shaped tweets loaded by the loader, then copied in SQL with fresh
  tweet ids (every column as the loader wrote it) up to the row count; a full run, then 1 %
  new rows and an incremental run, then micro-batches, all on one warm Spark session.
- **Memory**: every process sampled each second (RSS; PostgreSQL: PSS summed over its
  processes); flat = the fitted growth of private memory (RSS; PostgreSQL: PSS without its
  shared memory, the fixed `shared_buffers` its backends map as they touch them) over the long
  run (after its first 20 %) is under 5 % of its mean or 16 MiB.
"""


def markdown_page(results: Mapping[str, Any], table: Sequence[Row]) -> str:
    machine = results.get("machine", {})
    parts = [
        "# Benchmarks",
        "",
        f"Produced by `{results.get('command', 'make bench')}` on {results.get('started')} in "
        f"{results.get('seconds', '?')} s, on {machine.get('cpus')} cores "
        f"(load average {machine.get('loadavg_at_start', 0):.1f} at the start; "
        f"{machine.get('note', '')}). Raw figures: `docs/benchmarks.json`.",
        "",
        markdown_table(table),
        "",
        *_errors(results),
        *targets(results),
        *_end_to_end_details(results.get("end_to_end") or {}),
        METHOD,
    ]
    return "\n".join(parts)


def targets(results: Mapping[str, Any]) -> list[str]:
    """The issue's targets against this run's figures: met or not, and by how much."""
    lines: list[str] = []
    rates = (results.get("produce") or {}).get("rates") or {}
    base = rates.get("kafka_producer_performance")
    for name in ("collect_replay", "tweetpipe_producer"):
        share = ratio(rates.get(name), base)
        if share is not None:
            lines.append(f"- produce >= 50 % of ProducerPerformance: {name} "
                         f"{fmt_ratio(share)}: {'met' if share >= 0.5 else 'NOT met'}")
    lines += _load_targets(results.get("load") or {})
    e2e = results.get("end_to_end") or {}
    if e2e.get("runs"):
        top = e2e.get("highest_sustained")
        lines.append("- end to end 6,000 tweets/s sustained (p99 < 2 s to tweet_merge, < 10 s "
                     f"to tweet_transformed): {'met' if top and top >= 6000 else 'NOT met'}; "
                     f"highest sustained: {f'{top:,}/s' if top else 'none of the rates tried'}")
    transform = results.get("transform") or {}
    if transform.get("full_s"):
        share = transform["incremental_s"] / transform["full_s"]
        lines.append(f"- transform 1 % incremental <= 10 % of a full run at "
                     f"{transform['rows']:,} rows: {fmt_ratio(share)}: "
                     f"{'met' if share <= 0.10 else 'NOT met'}")
    flat = (results.get("memory") or {}).get("flatness") or {}
    if flat:
        growing = sorted(label for label, f in flat.items() if f.get("flat") is False)
        lines.append("- memory flat over the long run: "
                     + ("met" if not growing else f"NOT met: {', '.join(growing)} grew"))
    return ["## Targets", "", *lines, ""] if lines else []


def _load_targets(load: Mapping[str, Any]) -> list[str]:
    """tweetpipe's loaders against 60 % of the bare COPY, each with the share of it that its
    CPU time per tweet allows on this machine's cores (the machine's limit)."""
    loaders = load.get("loaders") or {}
    copy = (loaders.get("copy") or {}).get("tweets_per_s")
    lines = []
    for name, facts in loaders.items():
        share = facts.get("ratio_to_copy")
        if not name.startswith("tweetpipe") or share is None:
            continue
        ceiling = (facts.get("cpu") or {}).get("ceiling_per_s")
        limit = (f" (its CPU time per tweet allows at most {fmt_ratio(ratio(ceiling, copy))} "
                 f"on {load.get('cpus')} cores)" if ceiling and copy else "")
        lines.append(f"- load >= 60 % of a bare COPY: {name} {fmt_ratio(share)}: "
                     f"{'met' if share >= 0.6 else 'NOT met'}{limit}")
    return lines


def _errors(results: Mapping[str, Any]) -> list[str]:
    failed = [(name, found["error"]) for name, found in results.items()
              if isinstance(found, Mapping) and "error" in found]
    if not failed:
        return []
    return ["## Failed sections", "", *(f"- {name}: {error}" for name, error in failed), ""]


def profile_lines(cpu: Mapping[str, float], seconds: float, cores: int) -> list[str]:
    """CPU per process in a window as a share of the machine."""
    budget = seconds * cores
    ordered = sorted(cpu.items(), key=lambda item: -item[1])
    return [f"| {label} | {used:,.1f} s | {used / budget:.0%} |" for label, used in ordered
            if used > 0]


def _end_to_end_details(e2e: Mapping[str, Any]) -> list[str]:
    runs = e2e.get("runs") or []
    if not runs:
        return []
    measured = [r for r in runs if "error" not in r]
    if not measured:
        return []
    top = max(measured, key=lambda r: r["offered"])
    every = e2e.get("transform_every_s")
    lines = ["## End to end", "",
             "Highest sustained rate: " + (f"{e2e['highest_sustained']:,} tweets/s."
                                          if e2e.get("highest_sustained")
                                          else "none of the rates tried.")
             + (f" Micro-batches started every {every:g} s." if every else ""), "",
             f"Where the time goes at {top['offered']:,}/s offered (CPU seconds per process in "
             f"the {top['seconds']:.0f} s window, share of 2 cores):", "",
             "| process | CPU | share |", "|---|---|---|",
             *profile_lines(top.get("cpu_seconds", {}), top["seconds"], 2), "",
             f"Median from the `tweet_merge` commit to the `tweet_transformed` commit: "
             f"{fmt_s(top['latency'].get('merge_to_transformed_p50_s'))}; from the tweet's "
             f"creation on the emulator to its `tweet_merge` commit: p50 "
             f"{fmt_s(top['latency']['merge_from_creation']['p50_s'])}, p99 "
             f"{fmt_s(top['latency']['merge_from_creation']['p99_s'])}.", ""]
    long_run = e2e.get("long_run")
    if long_run and "error" not in long_run:
        merge, transformed = long_run["latency"]["merge"], long_run["latency"]["transformed"]
        verdict = "sustained" if long_run["sustained"] else "NOT sustained"
        lines += [f"Long run: {long_run['offered']:,}/s offered for "
                  f"{long_run['seconds']:.0f} s: {verdict};"
                  f" collected {fmt_rate(long_run['rates']['collected'])}, to "
                  f"tweet_transformed {fmt_rate(long_run['rates']['transformed'])}; p50/p99 "
                  f"{fmt_s(merge['p50_s'])}/{fmt_s(merge['p99_s'])} to tweet_merge, "
                  f"{fmt_s(transformed['p50_s'])}/{fmt_s(transformed['p99_s'])} to "
                  "tweet_transformed.", ""]
    return lines
