"""The benchmark's arithmetic and table (pure logic: no services)."""

from __future__ import annotations

import math

import pytest

from bench import report
from bench.end_to_end import window_figures
from bench.memory import label_of


def test_percentile_interpolates_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert report.percentile(values, 50) == pytest.approx(50.5)
    assert report.percentile(values, 99) == pytest.approx(99.01)
    assert report.percentile(values, 0) == 1.0
    assert report.percentile(values, 100) == 100.0
    assert report.percentile([3.0, 1.0, 2.0], 50) == 2.0  # unsorted input
    assert report.percentile([], 50) is None
    with pytest.raises(ValueError, match=r"0\.\.100"):
        report.percentile(values, 101)


def test_latency_counts_rows_that_never_arrived() -> None:
    arrived = [0.1] * 98 + [0.5, 3.0]
    found = report.latency(arrived)
    assert (found.count, found.missing, found.max) == (100, 0, 3.0)
    assert found.p50 == pytest.approx(0.1)
    assert found.p99 == pytest.approx(0.5 + (3.0 - 0.5) * 0.01)
    # 2 of 100 never transformed: more than 1 % missing, so p99 is unbounded
    lost = report.latency([*([0.1] * 98), None, None])
    assert lost.missing == 2 and lost.p99 == math.inf
    assert lost.as_dict()["p99_s"] == "inf"
    # 1 in 200 missing is within the 1 % the p99 may ignore
    assert report.latency([*([0.2] * 199), None]).p99 == pytest.approx(0.2)


def test_sustains_needs_rate_and_both_bounds() -> None:
    assert report.sustains(1000, 990, 1.5, 9.0)
    assert not report.sustains(1000, 900, 1.5, 9.0)  # fell behind
    assert not report.sustains(1000, 1000, 2.5, 9.0)  # tweet_merge too late
    assert not report.sustains(1000, 1000, 1.5, 10.5)  # tweet_transformed too late
    assert not report.sustains(1000, 1000, None, 9.0)  # nothing measured


def test_window_figures_rates_and_latencies() -> None:
    # (created, collected, merged, transformed) epoch seconds; window [100, 110)
    rows: list[tuple[float | None, float, float, float | None]] = [
        (99.9 + i / 10, 100.0 + i / 10, 100.5 + i / 10, 104.0 + i / 10) for i in range(100)]
    rows.append((90.0, 95.0, 96.0, 101.0))  # collected before the window: not its latency
    rows.append((109.0, 109.5, 111.0, None))  # collected in it, never transformed
    found = window_figures(rows, 100.0, 110.0)
    assert found["rates"]["collected"] == pytest.approx(10.1)
    assert found["rates"]["merged"] == pytest.approx(9.5)  # 100.5 .. 109.9: 95 rows
    assert found["latency"]["merge"]["count"] == 101
    assert found["latency"]["merge"]["p50_s"] == pytest.approx(0.5)
    assert found["latency"]["merge"]["max_s"] == pytest.approx(1.5)
    assert found["latency"]["transformed"]["missing"] == 1
    assert found["latency"]["transformed"]["p50_s"] == pytest.approx(4.0)
    assert found["latency"]["merge_from_creation"]["p50_s"] == pytest.approx(0.6)


def test_growth_tells_flat_from_growing() -> None:
    mib = 2**20
    flat = [(float(t), 500 * mib + (t % 3) * mib) for t in range(300)]
    assert report.growth(flat)["flat"] is True
    leaking = [(float(t), 500 * mib + t * mib / 6) for t in range(300)]  # +10 MiB/min
    found = report.growth(leaking)
    assert found["flat"] is False
    assert found["slope_mib_per_min"] == pytest.approx(10.0, rel=0.01)
    assert report.growth(leaking[:3])["flat"] is None


def test_labels_of_processes() -> None:
    assert label_of(["/v/bin/python", "-m", "tweetpipe.run.components", "loader", "{}"],
                    "python") == "loader"
    assert label_of(["java", "-cp", "x", "kafka.Kafka", "server.properties"], "java") == "kafka"
    assert label_of(["postgres: tweetpipe bench idle"], "postgres") == "postgresql"
    assert label_of(["/usr/bin/bash"], "bash") is None


def test_table_and_page() -> None:
    results = {
        "produce": {"count": 1000, "mean_size": 4321.0,
                    "rates": {"collect_replay": 500, "kafka_producer_performance": 1000}},
        "transform": {"rows": 1_000_000, "full_s": 100.0, "incremental_s": 5.0,
                      "incremental_rows": 10_000, "micro_batch_rows": 1000,
                      "micro_batch_s": {"runs": [1.0, 2.0], "p50_s": 1.5, "max_s": 2.0}},
        "load": {"error": "RuntimeError: boom"},
        "machine": {"cpus": 2, "loadavg_at_start": 1.0, "note": "shared"},
    }
    table = report.rows(results)
    results_text = report.text_table(table)
    assert "500/s (50%)" in results_text
    assert "1,000/s (100%)" in results_text
    assert "5.00 s = 5% of the full run" in results_text
    assert "failed: RuntimeError: boom" in results_text
    page = report.markdown_page(results, table)
    assert page.startswith("# Benchmarks")
    assert "| what | how | result |" in page and "## Failed sections" in page


def test_cpu_and_memory_per_label_from_samples() -> None:
    from bench.memory import Sampler

    sampler = Sampler()
    # (time, phase, pid, label, bytes, private bytes, cpu seconds so far): two loader
    # processes, one of which exits mid-window (its CPU must not turn negative), and a collector
    sampler.samples += [
        (0.0, "long run", 1, "loader", 100, 80, 10.0), (0.0, "long run", 2, "loader", 50, 40, 5.0),
        (0.0, "long run", 3, "collector", 70, 70, 1.0),
        (1.0, "long run", 1, "loader", 110, 90, 11.5),
        (1.0, "long run", 3, "collector", 70, 70, 1.25),
    ]
    assert sampler.cpu_between(0.0, 1.0) == {"loader": 1.5, "collector": 0.2}
    assert sampler.totals("long run")["loader"] == [(0.0, 150), (1.0, 110)]
    assert sampler.totals("long run", private=True)["loader"] == [(0.0, 120), (1.0, 90)]
    assert sampler.summary(None)["peaks"]["loader"] == {"peak": 150, "phase": "long run"}


def test_targets_say_met_or_not() -> None:
    results = {
        "produce": {"rates": {"collect_replay": 400, "tweetpipe_producer": 1200,
                              "kafka_producer_performance": 1000}},
        "end_to_end": {"runs": [{"offered": 2000}], "highest_sustained": 2000},
        "transform": {"rows": 1_000_000, "full_s": 100.0, "incremental_s": 4.0},
        "memory": {"flatness": {"loader": {"flat": True}, "emulator": {"flat": False}}},
    }
    lines = "\n".join(report.targets(results))
    assert "collect_replay 40%: NOT met" in lines
    assert "tweetpipe_producer 120%: met" in lines
    assert "NOT met; highest sustained: 2,000/s" in lines
    assert "1,000,000 rows: 4%: met" in lines
    assert "NOT met: emulator grew" in lines


def test_load_rows_and_target_show_the_cpu_ceiling() -> None:
    cpu = {"us_per_tweet": {"loader": 200.0, "postgresql": 130.0, "kafka": 20.0},
           "total_us_per_tweet": 350.0, "ceiling_per_s": 5714}
    load = {"messages": 50_000, "mean_message_bytes": 6120, "cpus": 2, "loaders": {
        "copy": {"tweets_per_s": 10_000, "ratio_to_copy": 1.0},
        "tweetpipe_1": {"tweets_per_s": 4_500, "ratio_to_copy": 0.45, "cpu": cpu},
        "tweetpipe_2": {"tweets_per_s": 6_500, "ratio_to_copy": 0.65, "cpu": cpu}}}
    rows = dict((name, result) for name, _, result in report.load_rows(load))
    assert rows["load: tweetpipe_1"] == (
        "4,500/s (45%); CPU 350 µs/tweet (loader 200, postgresql 130, kafka 20): at most "
        "5,714/s on 2 cores")
    assert rows["load: copy"] == "10,000/s (100%)"
    lines = report.targets({"load": load})
    assert lines[2] == ("- load >= 60 % of a bare COPY: tweetpipe_1 45%: NOT met (its CPU time "
                        "per tweet allows at most 57% on 2 cores)")
    assert lines[3].startswith("- load >= 60 % of a bare COPY: tweetpipe_2 65%: met")


def test_postgresql_private_memory_leaves_out_shared_memory() -> None:
    import mmap

    import psutil  # type: ignore[import-untyped]

    from bench.memory import _memory

    shared = mmap.mmap(-1, 64 * 2**20, flags=mmap.MAP_SHARED)  # as PostgreSQL's buffers
    before = _memory(psutil.Process(), "postgresql")
    shared.write(b"x" * (64 * 2**20))  # touched: in this process's PSS, as shared memory
    after = _memory(psutil.Process(), "postgresql")
    shared.close()
    assert after[0] - before[0] > 60 * 2**20
    assert abs(after[1] - before[1]) < 16 * 2**20
