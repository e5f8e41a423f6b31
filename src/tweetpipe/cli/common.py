"""What every command shares: the app, the console, the settings (built once), signals."""

from __future__ import annotations

import atexit
import signal
import threading
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from tweetpipe import signals
from tweetpipe.settings import Settings, load_settings

console = Console(stderr=True)
#: `--help` lists the commands in the order a tweet travels, then the tools.
COMMAND_ORDER = ("services", "db", "collect", "rules", "load", "transform", "run", "status",
                 "demo", "dashboard", "emulator")


class PipelineOrder(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        rank = {name: i for i, name in enumerate(COMMAND_ORDER)}
        return sorted(super().list_commands(ctx), key=lambda n: rank.get(n, len(rank)))


app = typer.Typer(help="X API v2 -> Kafka -> PostgreSQL -> PySpark, exactly once.",
                  no_args_is_help=True, pretty_exceptions_enable=False, cls=PipelineOrder)


class State:
    settings: Settings | None = None


def settings() -> Settings:
    """The one settings object of this run, built at first use from the environment."""
    if State.settings is None:
        State.settings = load_settings()
    return State.settings


def stop_event() -> threading.Event:
    """Set on SIGINT/SIGTERM so long runs finish or roll back their batch and exit cleanly.

    The handler does not touch the event itself (see `tweetpipe.signals`); the thread that sets
    it says what happens, and is given time to say it at exit.
    """
    said = threading.Event()

    def announce(signum: int) -> None:
        console.print(f"[yellow]{signal.Signals(signum).name}: finishing the current batch…")
        said.set()

    event = signals.stop_event(announce)
    atexit.register(lambda: event.is_set() and said.wait(2.0))
    return event
