"""What `/api/dashboard` and `/events` send: the charts' data, the newest tweets and the health
facts, as one JSON document.

`Dashboard.payload()` builds it at most once per `fresh_for` seconds however many pages are
open (one set of queries a period, shared), and never raises: a failing `facts()` shows as an
error in the health panel. Secret settings (a password, the bearer token) are masked in the
document should any message quote them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import SecretStr

from tweetpipe.dashboard import queries
from tweetpipe.settings import Settings

log = logging.getLogger(__name__)
JSON = dict[str, Any]
MASK = "***"
#: secrets shorter than this are not masked (they would mask ordinary words)
MIN_SECRET = 6


class Dashboard:
    """The dashboard's data source: `payload()` is the JSON document (bytes)."""

    def __init__(self, settings: Settings, facts: Callable[[], JSON], *,
                 limits: queries.Limits = queries.Limits(), fresh_for: float = 1.0) -> None:
        self.settings = settings
        self.facts = facts
        self.limits = limits
        self.fresh_for = fresh_for
        self._secrets = secrets_of(settings)
        self._lock = threading.Lock()
        self._cached: bytes | None = None
        self._built_at = 0.0

    def payload(self) -> bytes:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._built_at >= self.fresh_for:
                self._cached = encode(self.build(), self._secrets)
                self._built_at = now
            return self._cached

    def build(self) -> JSON:
        document = queries.read(self.settings, self.limits)
        document["generated"] = datetime.now(UTC).isoformat(timespec="seconds")
        document["health"] = health(self.facts)
        return document


def health(facts: Callable[[], JSON]) -> JSON:
    """`facts()`, or what went wrong calling it."""
    try:
        found = facts()
    except Exception as exc:  # the page must still load: it shows the error instead
        log.exception("dashboard: the facts could not be read")
        return {"errors": {"facts": queries.describe(exc)}}
    return found if isinstance(found, dict) else {"errors": {"facts": "no facts"}}


def secrets_of(settings: Settings) -> list[str]:
    """The values of the settings' secrets that are worth masking: set, long enough and not
    the documented default (the default password is no secret)."""
    found = []
    for name, info in type(settings).model_fields.items():
        value = getattr(settings, name)
        if not isinstance(value, SecretStr):
            continue
        text = value.get_secret_value()
        default = info.default.get_secret_value() if isinstance(info.default, SecretStr) else None
        if len(text) >= MIN_SECRET and text != default:
            found.append(text)
    return found


def encode(document: JSON, secrets: list[str]) -> bytes:
    """The document as JSON, every secret (as JSON escapes it) replaced by a mask."""
    body = orjson.dumps(document, default=str)
    for secret in sorted(secrets, key=len, reverse=True):
        escaped = orjson.dumps(secret)[1:-1]
        body = body.replace(escaped, MASK.encode())
    return body
