"""Helpers for `tweetpipe run` tests: start a run as a user would, read its components."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from tweetpipe.run import live
from tweetpipe.settings import Settings

from ..pipeline import settings_env

CLI = [sys.executable, "-m", "tweetpipe.cli"]


def start_run(settings: Settings, *args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([*CLI, "run", *args], env=settings_env(settings), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def report(settings: Settings, name: str) -> dict[str, Any]:
    path = live.run_dir(settings) / f"{name}.json"
    try:
        found: dict[str, Any] = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not reaped yet) is not alive
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
