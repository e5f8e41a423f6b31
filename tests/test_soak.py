"""scripts/soak_report.py: the soak's slope fit, verdict and table (pure; the soak itself runs
by hand, see docs/soak.md)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "soak_report.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak_report", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak_report"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


report = _load()
EXACT = {"collected": 900, "tweet_merge": 900, "tweet_transformed": 900, "dead_letters": 0}


def samples(rss: dict[str, Any], lag: Any = lambda _t: 10, minutes: int = 60) -> list[Any]:
    """One sample a minute; `rss[name](t)` gives a process's MB at t seconds."""
    found = []
    for m in range(minutes + 1):
        t = m * 60.0
        found.append({"t": t, "time": f"T{m}", "rss_mb": {k: f(t) for k, f in rss.items()},
                      "lag": {"0": lag(t)}, "lag_total": lag(t), "tweet_merge": 15 * m,
                      "tweet_transformed": 15 * m, "dead_letters": 0, "collected": 15 * m})
    return found


def test_slope_is_least_squares() -> None:
    assert report.slope([(0, 1), (1, 3), (2, 5)]) == pytest.approx(2.0)
    assert report.slope([(0, 0), (1, 2), (2, 0), (3, 2)]) == pytest.approx(0.4)
    assert report.slope([(5, 1)]) == 0.0
    assert report.slope([(5, 1), (5, 9)]) == 0.0


def test_a_leak_after_the_warmup_fails_a_jvm_warming_up_does_not() -> None:
    limits = report.Limits(warmup_s=300, flat_mb_per_hour=20, lag_limit=1000)
    run = samples({
        "leaky": lambda t: 100 + t / 3600 * 500,  # +500 MB/hour
        "jvm": lambda t: 200 + 600 * min(t, 240) / 240 + (3 if int(t) % 120 else 0),  # warms up
        "shrinks": lambda t: 300 - t / 3600 * 100,
    })
    found = report.verdict(run, EXACT, limits)
    by = {m.process: m for m in found.memory}
    assert by["leaky"].slope_mb_per_hour == pytest.approx(500, abs=1)
    assert not by["leaky"].flat
    assert by["jvm"].flat and by["jvm"].max_mb == pytest.approx(803)
    assert by["shrinks"].flat
    assert found.problems == ["leaky grows +500.0 MB/hour"] and not found.ok


def test_lag_beyond_the_limit_and_inexact_counts_fail() -> None:
    limits = report.Limits(warmup_s=0, lag_limit=1000)
    flat = {"p": lambda _t: 100.0}
    assert report.verdict(samples(flat), EXACT, limits).ok
    rising = report.verdict(samples(flat, lag=lambda t: int(t)), EXACT, limits)
    assert not rising.lag_bounded and rising.lag_max == 3600 and not rising.ok
    lost = {**EXACT, "tweet_transformed": 899}
    assert not report.verdict(samples(flat), lost, limits).counts_exact
    dead = {**EXACT, "dead_letters": 1}
    assert not report.verdict(samples(flat), dead, limits).counts_exact
    assert not report.verdict([], EXACT, limits).ok


def test_table_and_markdown() -> None:
    run = samples({"loader": lambda _t: 70.0, "emulator": lambda t: 80 + t / 60}, minutes=2)
    del run[0]["rss_mb"]["emulator"]  # not started yet at the first sample
    table = report.table(run, ["emulator", "loader"]).splitlines()
    assert table[0].startswith("| min | emulator | loader | lag | collected |")
    assert table[2] == "| 0.0 | - | 70 | 10 | 0 | 0 | 0 | 0 |"
    assert table[4] == "| 2.0 | 82 | 70 | 10 | 30 | 30 | 30 | 0 |"
    result = report.verdict(run, EXACT, report.Limits(warmup_s=0))
    text = report.markdown(run, result, {"command": "python scripts/soak.py --minutes 2"})
    assert "## Verdict: FAIL: emulator grows +60.0 MB/hour" in text
    assert "| emulator | 81 | 82 | 82 | +60.0 | GROWING |" in text
    assert "\n".join(table) in text
