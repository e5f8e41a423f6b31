"""Memory and CPU of every process of the pipeline, sampled in a thread for the whole bench.

Each process gets a label from its command line (collector, loader, transform driver, Spark
JVM, emulator, Kafka, PostgreSQL, producers, the bench itself); a label's figure is the sum
over its processes. RSS for all; PostgreSQL's many processes share their buffers, so its
figure is PSS (each shared page split among its sharers), which sums truthfully. Whether memory
grows is judged on private memory: RSS, and for PostgreSQL PSS without its shared memory. Its
PSS also grows while its live backends touch more of the shared buffers, a fixed allocation
(`shared_buffers`), which is not growth.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
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
    """Samples this process, its descendants (emulator, components, Spark, Kafka, producers)
    and the PostgreSQL server `postgres_pid` names (with its backends), never another job's.
    `phase` names what the bench is doing; samples are (time, phase, pid, label, bytes,
    private bytes, cpu)."""

    every: float = 1.0
    phase: str = "start"
    postgres_pid: Callable[[], int | None] = lambda: None
    samples: list[tuple[float, str, int, str, int, int, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _ours(self) -> list[psutil.Process]:
        me = psutil.Process()
        found = [me, *me.children(recursive=True)]
        pid = self.postgres_pid()
        if pid:
            with contextlib.suppress(psutil.Error):
                server = psutil.Process(pid)
                found += [server, *server.children(recursive=True)]
        return found

    def run(self) -> None:
        me = os.getpid()
        cache: dict[int, psutil.Process] = {}
        while not self._stop.wait(self.every):
            now = time.monotonic()
            for proc in self._ours():
                try:
                    kept = cache.setdefault(proc.pid, proc)
                    label = "bench" if proc.pid == me else label_of(kept.cmdline(), kept.name())
                    if label is None:
                        continue
                    memory, private = _memory(kept, label)
                    times = kept.cpu_times()
                    self.samples.append((now, self.phase, proc.pid, label, memory, private,
                                         times.user + times.system))
                except psutil.Error:
                    continue

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

    def totals(self, phase: str | None = None, *,
               private: bool = False) -> dict[str, list[tuple[float, int]]]:
        """Per label, (time, bytes summed over its processes) at each sample: all their
        memory, or with `private` their private memory only."""
        summed: dict[str, dict[float, int]] = defaultdict(lambda: defaultdict(int))
        for t, p, _, label, memory, own, _ in self.samples:
            if phase is None or p == phase:
                summed[label][t] += own if private else memory
        return {label: sorted(by_time.items()) for label, by_time in summed.items()}

    def cpu_between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds each label used between two `time.monotonic()` instants: per process,
        its last sample in the span minus its first, summed per label."""
        first: dict[int, float] = {}
        last: dict[int, tuple[str, float]] = {}
        for t, _, pid, label, _, _, cpu in self.samples:
            if start <= t <= end:
                first.setdefault(pid, cpu)
                last[pid] = (label, cpu)
        used: dict[str, float] = defaultdict(float)
        for pid, (label, cpu) in last.items():
            used[label] += cpu - first[pid]
        return {label: round(value, 1) for label, value in used.items()}

    def summary(self, long_phase: str | None) -> dict[str, Any]:
        peaks: dict[str, dict[str, Any]] = {}
        phases = {(t, label): p for t, p, _, label, _, _, _ in self.samples}
        for label, series in self.totals().items():
            t, peak = max(series, key=lambda item: item[1])
            peaks[label] = {"peak": peak, "phase": phases[(t, label)]}
        flatness = {}
        if long_phase:
            flatness = {label: growth([(t, float(b)) for t, b in series])
                        for label, series in self.totals(long_phase, private=True).items()}
        return {"peaks": peaks, "flatness": flatness, "every_s": self.every}


def _memory(proc: psutil.Process, label: str) -> tuple[int, int]:
    """(memory, private memory) of a process: for PostgreSQL's, PSS and PSS without its shared
    memory (the buffers), else RSS twice."""
    if label != "postgresql":
        rss = proc.memory_info().rss
        return rss, rss
    rollup = _rollup(proc.pid)
    if "Pss_Shmem" in rollup:
        return rollup["Pss"], rollup["Pss"] - rollup["Pss_Shmem"]
    found = proc.memory_full_info()  # a kernel without the split (before Linux 5.9)
    return found.pss, found.uss


def _rollup(pid: int) -> dict[str, int]:
    """The byte counts of /proc/PID/smaps_rollup ({} where it cannot be read)."""
    found = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, _, value = line.partition(":")
            parts = value.split()
            if len(parts) == 2 and parts[1] == "kB":
                found[name] = int(parts[0]) * 1024
    return found
