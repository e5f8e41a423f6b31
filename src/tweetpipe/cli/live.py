"""`tweetpipe run …` (collect, load and transform together, supervised) and `tweetpipe
dashboard` (the dashboard and `/metrics` on their own, against the database)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from tweetpipe import progress
from tweetpipe.cli.common import app, console, settings, stop_event
from tweetpipe.run import live

run_app = typer.Typer(help="Collect, load and transform together until stopped (Ctrl-C), with a "
                           "live dashboard and Prometheus metrics.", no_args_is_help=True)
app.add_typer(run_app, name="run")

Every = Annotated[float, typer.Option("--transform-every",
                                      help="seconds between transform micro-batches")]
Port = Annotated[int, typer.Option(help="dashboard and /metrics port (0: any free port)")]
NoDashboard = Annotated[bool, typer.Option("--no-dashboard", help="serve no dashboard")]
Host = Annotated[str, typer.Option(help="address the dashboard listens on (0.0.0.0: every "
                                        "interface, e.g. for Prometheus in a container)")]


def _run(source: dict[str, Any], every: float, port: int, no_dashboard: bool,
         host: str) -> None:
    options = live.RunOptions(source, transform_every=every, host=host,
                              port=None if no_dashboard else port)
    stop = stop_event()
    started = threading.Event()
    views: list[live.RunView] = []

    def ready(view: live.RunView) -> None:
        views.append(view)
        if view.url:
            console.print(f"dashboard: {view.url}  ·  metrics: {view.url}metrics")
        started.set()

    def show() -> None:
        started.wait()
        with progress.show(console, views[0], final=False):
            stop.wait()

    threading.Thread(target=show, name="tweetpipe-run-view", daemon=True).start()
    view = live.run(settings(), options, stop, on_event=console.print, on_ready=ready)
    console.print(view.line())


@run_app.command("sample")
def run_sample(every: Every = 5.0, port: Port = live.DEFAULT_PORT,
               no_dashboard: NoDashboard = False, host: Host = "127.0.0.1") -> None:
    """The 1% sample stream."""
    _run({"source": "sample"}, every, port, no_dashboard, host)


@run_app.command("stream")
def run_stream(every: Every = 5.0, port: Port = live.DEFAULT_PORT,
               no_dashboard: NoDashboard = False, host: Host = "127.0.0.1") -> None:
    """The filtered stream (rules: `tweetpipe rules add`)."""
    _run({"source": "stream"}, every, port, no_dashboard, host)


@run_app.command("search")
def run_search(
    query: Annotated[str, typer.Argument(help="X search query")],
    interval: Annotated[float, typer.Option(help="seconds between polls for newer tweets")
                        ] = 30.0,
    archive: Annotated[bool, typer.Option(help="full-archive search")] = False,
    every: Every = 5.0, port: Port = live.DEFAULT_PORT, no_dashboard: NoDashboard = False,
    host: Host = "127.0.0.1",
) -> None:
    """Search, then keep polling for newer tweets (since_id)."""
    _run({"source": "search", "query": query, "interval": interval, "archive": archive},
         every, port, no_dashboard, host)


@run_app.command("replay")
def run_replay(
    files: Annotated[list[Path], typer.Argument(help="X API v2 JSONL files")],
    every: Every = 5.0, port: Port = live.DEFAULT_PORT, no_dashboard: NoDashboard = False,
    host: Host = "127.0.0.1",
) -> None:
    """Recorded X API v2 JSONL (then keeps loading and transforming until stopped)."""
    _run({"source": "replay", "files": [str(f.resolve()) for f in files]}, every, port,
         no_dashboard, host)


@app.command("dashboard")
def dashboard_cmd(
    port: Port = live.DEFAULT_PORT, host: Host = "127.0.0.1",
) -> None:
    """The live dashboard and /metrics on their own, against the database (`tweetpipe run`
    serves them itself)."""
    stop = stop_event()
    with live.serving(settings(), host=host, port=port, stop=stop) as url:
        console.print(f"dashboard: {url}  ·  metrics: {url}metrics  (Ctrl-C stops)")
        stop.wait()
