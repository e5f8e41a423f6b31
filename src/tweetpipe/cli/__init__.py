"""`tweetpipe`: one command line for every stage. Settings are built once and passed down.

Commands live by stage: `services` (services, db), `collect` (collect, rules, emulator),
`stages` (load, transform, status, demo), `live` (run, dashboard).
"""

from __future__ import annotations

import logging
import sys

from rich.logging import RichHandler

from tweetpipe.cli import collect, live, services, stages
from tweetpipe.cli.common import State, app, console, settings
from tweetpipe.errors import ConfigError, TweetpipeError

__all__ = ["State", "app", "collect", "live", "main", "services", "settings", "stages"]


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(message)s",
                        handlers=[RichHandler(console=console, show_path=False)])
    logging.getLogger("tweetpipe").setLevel(logging.INFO)
    logging.getLogger("tweetpipe.kafka").setLevel(logging.ERROR)
    try:
        app()
    except ConfigError as exc:
        console.print(f"[red]configuration error:[/] {exc}")
        sys.exit(2)
    except TweetpipeError as exc:
        hint = " (temporary: retrying later may succeed)" if exc.retryable else ""
        console.print(f"[red]error:[/] {exc}{hint}")
        sys.exit(1)
