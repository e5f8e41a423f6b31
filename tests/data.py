"""Real recorded X API v2 responses bundled with the package, for tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

DATA = Path(__file__).resolve().parents[1] / "src" / "tweetpipe" / "data"


def sample(name: str) -> Path:
    return DATA / f"{name}.jsonl"


def payloads(name: str) -> list[Any]:
    out = []
    for line in sample(name).read_bytes().splitlines():
        try:
            out.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue
    return out


def all_files() -> list[Path]:
    return sorted(DATA.glob("*.jsonl"))
