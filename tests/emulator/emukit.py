"""Shared helpers for the emulator tests: options, recorded-file ids, OpenAPI validation."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import orjson

import tweetpipe
from tweetpipe_emulator import Emulator, EmulatorOptions

DATA = Path(next(iter(tweetpipe.__path__))) / "data"
SPEC = Path(__file__).parent / "data" / "x-api-v2-openapi-2.159.json"
TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def all_files() -> tuple[Path, ...]:
    return tuple(sorted(DATA.glob("*.jsonl")))


def file_ids(path: Path) -> set[str]:
    """Distinct primary tweet ids of a recorded JSONL file (skipping undecodable lines)."""
    ids: set[str] = set()
    for raw in path.read_bytes().splitlines():
        try:
            data = orjson.loads(raw)["data"]
        except orjson.JSONDecodeError:
            continue
        ids |= {t["id"] for t in (data if isinstance(data, list) else [data])}
    return ids


def make(**overrides: Any) -> Emulator:
    opts: dict[str, Any] = {"token": TOKEN, "keepalive_s": 0.2, "data_files": all_files()}
    opts.update(overrides)
    return Emulator(EmulatorOptions(**opts))


@cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = orjson.loads(SPEC.read_bytes())
    # Spec bug: X sends reply_settings "mentionedUsers" (14 chars) but the pattern allows 12.
    for name in ("ReplySettings", "ReplySettingsWithVerifiedUsers"):
        schema = spec["components"]["schemas"][name]
        schema["pattern"] = schema["pattern"].replace("{1,12}", "{1,14}")
    return spec


def validate(instance: Any, schema_name: str) -> None:
    """Validate against `#/components/schemas/<schema_name>` with all components inlined."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": _spec()["components"]}
    jsonschema.Draft4Validator(schema).validate(instance)


def validate_problem(body: dict[str, Any]) -> None:
    """A Problem, then the concrete problem schema its `type` maps to (OpenAPI discriminator)."""
    validate(body, "Problem")
    mapping = _spec()["components"]["schemas"]["Problem"]["discriminator"]["mapping"]
    assert body["type"] in mapping, body["type"]
    validate(body, mapping[body["type"]].rsplit("/", 1)[-1])


def unlimited(**overrides: Any) -> Emulator:
    """An emulator whose counts and full-archive limits never get in the way (a default
    counts window over the 2021 recordings is ~60 pages of days)."""
    from tweetpipe_emulator import EndpointLimit

    lots = EndpointLimit(100_000)
    limits = {"counts_recent": lots, "counts_all": lots, "search_all": lots}
    return make(rate_limits=limits, **overrides)
