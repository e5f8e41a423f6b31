"""Type-safe reads of untrusted JSON and conversions to the values PostgreSQL columns take.

A Kafka record is whatever a producer wrote: any field may hold any JSON type. Every read of a
nested field goes through `obj`, `items` or `objs`, which return a dict or a list only when the
value is one (an empty one otherwise), so a wrong type never raises; every column value goes
through the converter of its PostgreSQL type (`convert`), so COPY never receives a Python value
it cannot dump or a type the column does not hold.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from tweetpipe.errors import RecordError

JSON = dict[str, Any]
_INTEGER = re.compile(r"-?[0-9]+")
_EMPTY: JSON = {}


def obj(value: Any) -> JSON:
    """`value` if it is a JSON object, else an empty one (never to be mutated)."""
    return value if isinstance(value, dict) else _EMPTY


def items(value: Any) -> list[Any]:
    """`value` if it is a JSON array, else an empty list."""
    return value if isinstance(value, list) else []


def objs(value: Any) -> list[JSON]:
    """The objects of a JSON array (other elements skipped); [] if `value` is not an array."""
    return [v for v in items(value) if isinstance(v, dict)]


def path(value: Any, *keys: str) -> Any:
    """`value[k1][k2]...` through JSON objects only; None where a step is missing or no object."""
    for key in keys:
        value = obj(value).get(key)
    return value


def integer(value: Any) -> int | None:
    """A JSON integer or a string of ASCII digits (X sends ids as strings) -> int, else None.

    Size is not checked: a value beyond the column's range is refused by PostgreSQL, and the
    record is dead-lettered as such. Strings too long for Python's int() give None.
    """
    if type(value) is int:
        return value
    if not isinstance(value, str):
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if value.isascii() and value.isdigit() and len(value) < 4000:
        return int(value)
    text = value.strip()
    if not _INTEGER.fullmatch(text):
        return None
    try:
        return int(text)
    except ValueError:  # more digits than int() converts
        return None


def is_id(value: Any) -> bool:
    """A tweet, user or media id as X writes it: ASCII digits (a string or a JSON integer)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value >= 0
    return isinstance(value, str) and value.isascii() and value.isdigit()


def timestamp(value: Any) -> str | None:
    """An ISO-8601 timestamp PostgreSQL accepts, or None."""
    if not isinstance(value, str):
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return None
    return value


def text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def boolean(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def json_text(value: Any) -> str | None:
    """A JSON value serialised for a jsonb column; None stays SQL NULL."""
    if value is None:
        return None
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError as exc:  # decode() lets neither deep nesting nor huge ints by
        raise RecordError(f"unstorable JSON: {exc}") from None


def array_of(convert: Callable[[Any], Any]) -> Callable[[Any], list[Any] | None]:
    """A converter for an array column: a JSON array with each element converted, else None."""

    def convert_array(value: Any) -> list[Any] | None:
        return [convert(v) for v in value] if isinstance(value, list) else None

    return convert_array


SCALARS: dict[str, Callable[[Any], Any]] = {
    "bigint": integer, "integer": integer, "text": text, "boolean": boolean,
    "timestamptz": timestamp, "double precision": number, "jsonb": json_text,
}


def converter(pg_type: str) -> Callable[[Any], Any]:
    """The converter for a PostgreSQL column type (`text`, `bigint[]`, ...)."""
    if pg_type.endswith("[]"):
        return array_of(SCALARS[pg_type[:-2]])
    return SCALARS[pg_type]
