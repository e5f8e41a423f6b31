"""The one way a stage shows its progress: counters the stage updates, one renderer.

A stage keeps its counters in a dataclass with a `line()` method (`collect.CollectStats`,
`load.LoadStats`; `Phase` for a step that has nothing to count) and only updates fields.
`show(console, counters)` renders `line()` while the block runs:

- on a terminal: rich's `Live`, a spinner and the line, refreshed by rich itself;
- elsewhere (piped, in CI, into a log): one plain line every `every` seconds, so that even a
  15-minute rate-limit wait keeps saying what it waits for;

and prints the final line once when the block ends. `periodic` is the clock behind the plain
lines, for any code that wants to be called with the counters now and then (a notebook).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

PLAIN_EVERY = 10.0


class Counters(Protocol):
    def line(self) -> str:
        """Where the stage is, in one line (rich markup allowed)."""
        ...


C = TypeVar("C", bound=Counters)


@dataclass
class Phase:
    """A step with nothing to count (a Spark job, starting services): what, and for how long."""

    what: str
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        return f"{self.what} ({time.monotonic() - self.started:.0f}s)"


@contextmanager
def show(console: Console, counters: C, *, every: float = PLAIN_EVERY,
         final: bool = True) -> Iterator[C]:
    """Render `counters.line()` while the block runs; print the last line at its end (also when
    it fails: what was done before an error matters) unless `final` is False."""
    printed = [""]  # the last plain line printed: the final one is not printed twice

    def plain() -> None:
        line = counters.line()
        if line != printed[0]:
            console.print(line, soft_wrap=True)
            printed[0] = line

    try:
        if console.is_interactive:  # a terminal that can redraw a line (not TERM=dumb)
            with _live(console, counters):
                yield counters
        else:
            with periodic(plain, every=every):
                yield counters
    finally:
        if final and console.is_interactive:
            console.print(counters.line())
        elif final:
            plain()


@contextmanager
def _live(console: Console, counters: Counters) -> Iterator[None]:
    spinner = Spinner("dots", style="status.spinner")

    def render() -> Spinner:
        spinner.update(text=Text.from_markup(counters.line()))
        return spinner

    with Live(console=console, get_renderable=render, refresh_per_second=4, transient=True):
        yield


@contextmanager
def periodic(report: Callable[[], object], *, every: float) -> Iterator[None]:
    """Call `report()` every `every` seconds while the block runs."""
    done = threading.Event()

    def tick() -> None:
        while not done.wait(every):
            report()

    thread = threading.Thread(target=tick, name="tweetpipe-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=5)


#: seconds: from 5 ms to 30 s, Prometheus' cumulative buckets (+Inf is `count`)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class Histogram:
    """Durations a stage observed (a batch's, say), bucketed as Prometheus histograms are."""

    bounds: tuple[float, ...] = LATENCY_BUCKETS
    counts: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS))
    count: int = 0
    sum: float = 0.0

    def observe(self, seconds: float) -> None:
        self.count += 1
        self.sum += seconds
        for i, bound in enumerate(self.bounds):
            if seconds <= bound:
                self.counts[i] += 1

    def as_dict(self) -> dict[str, object]:
        return {"bounds": list(self.bounds), "counts": list(self.counts), "count": self.count,
                "sum": self.sum}
