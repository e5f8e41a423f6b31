"""One live run: services up, the components supervised, the dashboard and `/metrics` served,
until `stop` is set; then the components stop in order and the run says what it did."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tweetpipe import kafka
from tweetpipe.api import Pipeline
from tweetpipe.monitor import facts, prometheus
from tweetpipe.run.supervisor import Component, Supervisor
from tweetpipe.settings import Settings

log = logging.getLogger(__name__)
DEFAULT_PORT = 8080
POLL_S = 1.0


@dataclass(frozen=True)
class RunOptions:
    """`source`: the collector's params (`{"source": "sample"}`, `{"source": "search",
    "query": ..., "interval": 30}`, `{"source": "replay", "files": [...]}`); `port` None: no
    dashboard; 0: any free port."""

    source: dict[str, Any]
    transform_every: float = 5.0
    host: str = "127.0.0.1"
    port: int | None = DEFAULT_PORT


@dataclass
class RunView:
    """The live terminal view: one line per component (the progress interface's counters)."""

    supervisor: Supervisor
    url: str = ""

    def line(self) -> str:
        snapshot = facts.components(self.supervisor.run_dir, self.supervisor.view())
        lines = [f"dashboard {self.url}"] if self.url else []
        for name, c in snapshot.items():
            restarts = f", {c['restarts']} restarts" if c.get("restarts") else ""
            lines.append(f"[bold]{name}[/] ({c.get('state')}{restarts}): {c.get('line', '')}")
        return "\n".join(lines)


def run(settings: Settings, options: RunOptions, stop: threading.Event, *,
        on_event: Callable[[str], None] = log.info,
        on_ready: Callable[[RunView], None] | None = None) -> RunView:
    """Run until `stop` is set; `on_ready(view)` once everything started."""
    pipe = Pipeline(settings)
    pipe.services_up()
    pipe.migrate()
    kafka.ensure_topic(settings)
    supervisor = Supervisor(settings, [
        Component("collector", dict(options.source)),
        Component("loader", {"instance_id": "tweetpipe-run-loader"}),
        Component("transform", {"every": options.transform_every}),
    ], run_dir=run_dir(settings), on_event=on_event)
    view = RunView(supervisor)
    with _dashboard(settings, options, supervisor) as url:
        view.url = url
        supervisor.start()
        try:
            if on_ready:
                on_ready(view)
            while not stop.wait(POLL_S):
                supervisor.poll()
        finally:
            on_event("stopping: collector, then loader (after draining Kafka), then transform")
            supervisor.stop()
    return view


def run_dir(settings: Settings) -> Path:
    """Where a run on these settings keeps its components' reports and logs."""
    return settings.state_dir / "run" / f"{settings.db_schema}.{settings.kafka_topic}"


def snapshot_of(settings: Settings, supervisor: Supervisor | None = None) -> facts.Facts:
    return facts.snapshot(settings, run_dir=run_dir(settings),
                          supervised=supervisor.view() if supervisor else None)


@contextmanager
def _dashboard(settings: Settings, options: RunOptions, supervisor: Supervisor
               ) -> Iterator[str]:
    """The dashboard and `/metrics` in a thread; yields its URL ("" when not served)."""
    if options.port is None:
        yield ""
        return
    done = threading.Event()
    with serving(settings, host=options.host, port=options.port, stop=done,
                 supervisor=supervisor) as url:
        try:
            yield url
        finally:
            done.set()


@contextmanager
def serving(settings: Settings, *, host: str, port: int, stop: threading.Event,
            supervisor: Supervisor | None = None) -> Iterator[str]:
    """Serve the dashboard and `/metrics` (facts of this run, if any) in a thread while the
    block runs; yields the URL. A port that cannot be bound raises here, not in the thread."""
    from tweetpipe.dashboard import server

    ready = threading.Event()
    url: list[str] = []
    failed: list[BaseException] = []

    def get_facts() -> facts.Facts:
        return snapshot_of(settings, supervisor)

    def announce(where: str) -> None:
        url.append(where)
        ready.set()

    def serve() -> None:
        try:
            server.serve(settings, host=host, port=port, facts=get_facts,
                         metrics=lambda: prometheus.render(get_facts()), stop=stop,
                         ready=announce)
        except BaseException as exc:
            failed.append(exc)
            ready.set()

    thread = threading.Thread(target=serve, name="tweetpipe-dashboard", daemon=True)
    thread.start()
    ready.wait(30)
    if failed:
        raise failed[0]
    try:
        yield url[0] if url else ""
    finally:
        stop.set()
        thread.join(timeout=5)
