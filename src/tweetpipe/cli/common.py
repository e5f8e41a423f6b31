"""What every command shares: the app, the console, the settings (built once), signals."""

from __future__ import annotations

import signal
import threading
from typing import Any

import typer
from rich.console import Console

from tweetpipe.settings import Settings, load_settings

console = Console(stderr=True)
app = typer.Typer(help="X API v2 -> Kafka -> PostgreSQL -> PySpark, exactly once.",
                  no_args_is_help=True, pretty_exceptions_enable=False)


class State:
    settings: Settings | None = None


def settings() -> Settings:
    """The one settings object of this run, built at first use from the environment."""
    if State.settings is None:
        State.settings = load_settings()
    return State.settings


def stop_event() -> threading.Event:
    """Set on SIGINT/SIGTERM so long runs finish or roll back their batch and exit cleanly."""
    event = threading.Event()

    def handler(signum: int, _frame: Any) -> None:
        console.print(f"[yellow]{signal.Signals(signum).name}: finishing the current batch…")
        event.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return event
