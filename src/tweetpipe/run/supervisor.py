"""Start the components, restart a crashed one with backoff, stop them in order.

Each component is a process (`components.py`) with its own log file in the run's folder
(`run_dir`, beside its report). A component that exits while the run goes on is restarted
after 1 s, 2 s, 4 s, … (at most 30 s; the delay starts again once it has run for a minute),
and the restart is reported.
`stop()` asks them to finish in the order that loses nothing: the collector first (what it
sent is in Kafka), then the loader once the topic is drained into PostgreSQL, then the
transform, whose last micro-batch takes what the loader stored.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from tweetpipe import retry
from tweetpipe.errors import ConfigError, TweetpipeError
from tweetpipe.load import lag
from tweetpipe.settings import Settings

log = logging.getLogger(__name__)
BACKOFF = retry.Exponential(first=1.0, cap=30.0)
HEALTHY_AFTER_S = 60.0  # a component that ran this long starts its backoff again
ORDER = ("collector", "loader", "transform")


@dataclass
class Component:
    name: str
    params: dict[str, Any]
    proc: subprocess.Popen[bytes] | None = None
    state: str = "starting"
    restarts: int = 0
    failures: int = 0  # crashes in a row (for the backoff)
    started_at: float = 0.0
    next_start: float = 0.0
    last_exit: int | None = None
    stopping: bool = False

    def view(self) -> dict[str, Any]:
        return {"state": self.state, "pid": self.proc.pid if self.proc else None,
                "restarts": self.restarts, "last_exit": self.last_exit}


@dataclass
class Supervisor:
    settings: Settings
    components: list[Component]
    run_dir: Path
    on_event: Callable[[str], None] = field(default=lambda message: None)

    def __post_init__(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._lock = _exclusive(self.run_dir / "run.lock")
        for stale in self.run_dir.glob("*.json"):
            stale.unlink()  # reports of an earlier run (its logs are kept, appended to)
        self._env = {**os.environ, **self.settings.as_environment()}

    def start(self) -> None:
        for component in self.components:
            self._spawn(component)

    def view(self) -> dict[str, dict[str, Any]]:
        return {c.name: c.view() for c in self.components}

    def poll(self) -> None:
        """Notice exits and restart what is due; call it every second or so."""
        now = time.monotonic()
        for c in self.components:
            if c.stopping:
                continue
            if c.proc is not None and (code := c.proc.poll()) is not None:
                self._exited(c, code, now)
            elif c.proc is None and now >= c.next_start:
                c.restarts += 1
                self.on_event(f"restarting the {c.name} (restart {c.restarts})")
                self._spawn(c)

    def _exited(self, c: Component, code: int, now: float) -> None:
        c.proc, c.last_exit = None, code
        if code == 0 and c.name == "collector":
            c.state, c.stopping = "finished", True  # a bounded source is done
            self.on_event("the collector finished")
            return
        c.failures = 1 if now - c.started_at > HEALTHY_AFTER_S else c.failures + 1
        delay = BACKOFF(c.failures)
        c.state, c.next_start = "restarting", now + delay
        self.on_event(f"the {c.name} exited with {_describe(code)}; restarting in {delay:.0f}s"
                      f" (log: {self.log_path(c)})")

    def _spawn(self, c: Component) -> None:
        params = {**c.params, "run_dir": str(self.run_dir)}
        argv = [sys.executable, "-m", "tweetpipe.run.components", c.name,
                orjson.dumps(params).decode()]
        with self.log_path(c).open("ab") as out:
            c.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=self._env,
                                      start_new_session=True)
        c.state, c.started_at = "running", time.monotonic()

    def log_path(self, c: Component) -> Path:
        return self.run_dir / f"{c.name}.log"

    # ---- stopping in order ------------------------------------------------------------------

    def stop(self, drain_timeout: float = 10.0, exit_timeout: float = 15.0) -> None:
        """Collector, then loader (after the topic is drained), then transform."""
        by_name = {c.name: c for c in self.components}
        for name in ORDER:
            c = by_name.get(name)
            if c is None:
                continue
            if name != "collector" and not c.stopping and not self._running(c):
                self.on_event(f"starting the {name} again to finish its work")
                self._spawn(c)  # a crashed loader must still drain, a transform catch up
            if name == "loader":
                self._drain(drain_timeout)
            self._stop_one(c, exit_timeout)

    @staticmethod
    def _running(c: Component) -> bool:
        return c.proc is not None and c.proc.poll() is None

    def _reporting(self, c: Component) -> bool:
        """Its report names its pid: it is past start-up and handles SIGTERM."""
        path = self.run_dir / f"{c.name}.json"
        try:
            return c.proc is not None and orjson.loads(path.read_bytes())["pid"] == c.proc.pid
        except (OSError, ValueError, KeyError, TypeError):
            return False

    def _drain(self, timeout: float) -> None:
        try:
            retry.until(lambda: lag.loaded_to_log_end(self.settings), timeout=timeout,
                        delay=retry.Constant(0.2), what="the loader to drain the topic")
        except TweetpipeError as exc:  # stop anyway: what is left stays in Kafka, not lost
            self.on_event(f"stopping the loader before the topic was drained: {exc}")

    def _stop_one(self, c: Component, timeout: float) -> None:
        c.stopping = True
        proc = c.proc
        if proc is None or proc.poll() is not None:
            c.state = "stopped"
            return
        c.state = "stopping"
        with contextlib.suppress(TweetpipeError):  # a SIGTERM before its handler is in
            # place would kill it mid-start: wait for its first report
            retry.until(lambda: self._reporting(c) or proc.poll() is not None, timeout=timeout,
                        delay=retry.Constant(0.1), what=f"the {c.name} to start")
        proc.send_signal(signal.SIGTERM)
        try:
            c.last_exit = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.on_event(f"the {c.name} did not stop within {timeout:.0f}s: killed")
            proc.kill()
            c.last_exit = proc.wait()
        c.state, c.proc = "stopped", None


def _exclusive(path: Path) -> IO[str]:
    """Hold `path` locked while this process lives: one run per topic and schema (a second
    loader with the run's static group membership would fence the first)."""
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid = handle.read().strip() or "?"
        handle.close()
        raise ConfigError(f"another `tweetpipe run` (pid {pid}) runs on this topic and schema; "
                          "stop it first, or set KAFKA_TOPIC / DB_SCHEMA for another pipeline"
                          ) from None
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _describe(code: int) -> str:
    if code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"exit code {code}"
