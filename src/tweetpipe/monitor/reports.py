"""Components' reports: one JSON file per running component, rewritten every second.

A component (a process `tweetpipe run` supervises) keeps its counters in its stage's stats
dataclass (`CollectStats`, `LoadStats`, `TransformStats`); `reporting` writes them, with the
counters' one-line summary, to `<run_dir>/<name>.json` (atomically: a reader never sees half a
file). `read_all` gives them back by name.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from tweetpipe import progress

log = logging.getLogger(__name__)
REPORT_EVERY = 1.0


def counters_of(stats: Any) -> dict[str, Any]:
    """The reportable fields of a stats dataclass: numbers, strings, histograms, and `rate`."""
    found: dict[str, Any] = {}
    for f in dataclasses.fields(stats):
        value = getattr(stats, f.name)
        if isinstance(value, progress.Histogram):
            found[f.name] = value.as_dict()
        elif isinstance(value, bool | int | float | str) or value is None:
            found[f.name] = value
    rate = getattr(stats, "rate", None)
    if isinstance(rate, int | float):
        found["rate"] = float(rate)
    return found


def write(path: Path, name: str, stats: progress.Counters) -> None:
    report = {"name": name, "pid": os.getpid(), "updated": time.time(),
              "line": stats.line(), "counters": counters_of(stats)}
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(orjson.dumps(report))
    os.replace(tmp, path)


@contextmanager
def reporting(run_dir: Path, name: str, stats: progress.Counters,
              every: float = REPORT_EVERY) -> Iterator[None]:
    """Write `stats` to `<run_dir>/<name>.json` every `every` seconds and once at the end."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / f"{name}.json"

    def report() -> None:
        try:
            write(path, name, stats)
        except OSError as exc:  # a full disk must not stop the component
            log.warning("cannot write the %s report %s: %s", name, path, exc)

    report()  # at once: the supervisor reads it as "started, signals handled"
    try:
        with progress.periodic(report, every=every):
            yield
    finally:
        report()


def read_all(run_dir: Path | None) -> dict[str, dict[str, Any]]:
    """The latest report of each component in `run_dir` (none: {})."""
    found: dict[str, dict[str, Any]] = {}
    if run_dir is None or not run_dir.is_dir():
        return found
    for path in sorted(run_dir.glob("*.json")):
        try:
            report = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue  # being replaced right now, or removed
        if isinstance(report, dict):
            found[str(report.get("name", path.stem))] = report
    return found
