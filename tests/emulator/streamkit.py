"""A tiny raw stream reader for the emulator tests (no __init__: imported from this folder)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from emukit import AUTH
from tests.waiting import wait_until


@dataclass
class Read:
    status: int
    headers: httpx.Headers
    lines: list[bytes] = field(default_factory=list)  # tweet/error lines, without \r\n
    keepalives: int = 0
    ended: str = "limit"  # "limit", "closed" (clean end), "error" (reset/incomplete)
    gaps: list[float] = field(default_factory=list)  # seconds between chunks
    body: bytes = b""


def read_stream(url: str, path: str, *, lines: int, keepalives: int = 0, **params: Any) -> Read:
    """Read until `lines` lines and `keepalives` keep-alives arrived, or the stream ended."""
    try:
        return _read(url, path, lines, keepalives, params)
    except httpx.TransportError:  # reset before the response headers
        return Read(0, httpx.Headers(), ended="error")


def _read(url: str, path: str, lines: int, keepalives: int, params: dict[str, Any]) -> Read:
    with httpx.stream("GET", url + path, params=params, headers=AUTH, timeout=10) as r:
        out = Read(r.status_code, r.headers)
        if r.status_code != 200:
            out.body = r.read()
            return out
        buf, last = b"", time.monotonic()
        try:
            for chunk in r.iter_raw():
                now = time.monotonic()
                out.gaps.append(now - last)
                last = now
                buf += chunk
                while b"\r\n" in buf:
                    line, buf = buf.split(b"\r\n", 1)
                    if line:
                        out.lines.append(line)
                    else:
                        out.keepalives += 1
                if len(out.lines) >= lines and out.keepalives >= keepalives:
                    return out
            out.ended = "closed"
        except httpx.TransportError:
            out.ended = "error"
    return out


def wait_idle(stats: Any, timeout: float = 5.0) -> None:
    """Wait until the server noticed our last stream connection closed (on its next write)."""
    wait_until(lambda: stats.active == 0, timeout,
               lambda: f"the emulator still counts {stats.active} open stream connections",
               interval=0.02)
