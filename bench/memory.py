"""Memory and CPU of every process of the pipeline, sampled in a thread for the whole bench.

Each process gets a label from its command line (collector, loader, transform driver, Spark
JVM, emulator, Kafka, PostgreSQL, producers, the bench itself); a label's figure is the sum
over its processes. RSS for all; PostgreSQL's many processes share their buffers, so its
figure is PSS (each shared page split among its sharers), which sums truthfully.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psutil  # type: ignore[import-untyped]

from bench.report import growth

LABELS = (  # (label, words all in the command line); first match wins
    ("collector", ("tweetpipe.run.components", "collector")),
    ("loader", ("tweetpipe.run.components", "loader")),
    ("transform driver", ("tweetpipe.run.components", "transform")),
    ("spark JVM", ("java", "org.apache.spark")),
    ("kafka ProducerPerformance", ("java", "ProducerPerformance")),
    ("kafka", ("java", "kafka.Kafka")),
    ("emulator", ("tweetpipe_emulator",)),
    ("emulator", ("tweetpipe-emulator",)),
    ("bench load worker", ("multiprocessing",)),
)


def label_of(cmdline: list[str], name: str) -> str | None:
    if name.startswith("postgres") or (cmdline and cmdline[0].startswith("postgres")):
        return "postgresql"
    joined = " ".join(cmdline)
    for label, words in LABELS:
        if all(w in joined for w in words):
            return label
    return None


@dataclass
class Sampler:
    """`phase` names what the bench is doing; samples are kept per (phase, label)."""

    every: float = 1.0
    phase: str = "start"
    samples: list[tuple[float, str, str, int, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _procs: dict[int, psutil.Process] = field(default_factory=dict)

    def run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(self.every):
            now = time.monotonic()
            rss: dict[str, int] = defaultdict(int)
            cpu: dict[str, float] = defaultdict(float)
            for proc in psutil.process_iter(["pid", "name", "cmdline"]):
                try:
                    label = ("bench" if proc.pid == me else
                             label_of(proc.info["cmdline"] or [], proc.info["name"] or ""))
                    if label is None:
                        continue
                    kept = self._procs.setdefault(proc.pid, proc)
                    if label == "postgresql":
                        rss[label] += kept.memory_full_info().pss
                    else:
                        rss[label] += kept.memory_info().rss
                    times = kept.cpu_times()
                    cpu[label] += times.user + times.system
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
            for label, value in rss.items():
                self.samples.append((now, self.phase, label, value, cpu[label]))

    @contextmanager
    def running(self) -> Iterator[Sampler]:
        thread = threading.Thread(target=self.run, name="bench-memory", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(timeout=10)

    @contextmanager
    def during(self, phase: str) -> Iterator[None]:
        before, self.phase = self.phase, phase
        try:
            yield
        finally:
            self.phase = before

    def series(self, phase: str, label: str) -> list[tuple[float, float]]:
        return [(t, b) for t, p, lab, b, _ in self.samples if p == phase and lab == label]

    def cpu_between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds each label used between two `time.monotonic()` instants (its last
        sample in the span minus its first)."""
        first: dict[str, float] = {}
        last: dict[str, float] = {}
        for t, _, label, _, cpu in self.samples:
            if start <= t <= end:
                first.setdefault(label, cpu)
                last[label] = cpu
        return {label: round(last[label] - first[label], 1) for label in last}

    def summary(self, long_phase: str | None) -> dict[str, Any]:
        peaks: dict[str, dict[str, Any]] = {}
        for _, phase, label, value, _ in self.samples:
            found = peaks.setdefault(label, {"peak": 0, "phase": phase})
            if value > found["peak"]:
                found.update(peak=value, phase=phase)
        flatness = {}
        if long_phase:
            labels = {lab for _, p, lab, _, _ in self.samples if p == long_phase}
            flatness = {label: growth(self.series(long_phase, label)) for label in labels}
        return {"peaks": peaks, "flatness": flatness, "every_s": self.every}

