"""What every command shares: the app, the console, the settings (built once), signals."""

from __future__ import annotations

import atexit
import signal
import threading
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

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

    The handler only records the signal and sets the event: printing from a signal handler
    could re-enter the console while the interrupted code holds its lock. A daemon thread
    waiting on the event says what happens, and is given time to say it at exit.
    """
    event = threading.Event()
    received: list[int] = []

    def handler(signum: int, _frame: Any) -> None:
        received.append(signum)
        event.set()

    def announce() -> None:
        event.wait()
        if received:
            console.print(f"[yellow]{signal.Signals(received[0]).name}: "
                          "finishing the current batch…")

    def let_it_print() -> None:
        if event.is_set():
            notice.join(timeout=2.0)

    notice = threading.Thread(target=announce, name="tweetpipe-stop-notice", daemon=True)
    notice.start()
    atexit.register(let_it_print)
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return event
