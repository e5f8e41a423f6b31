"""The X API v2 HTTP client: bearer auth, default field selection, rate limits, retries.

`XClient.get`/`post` retry network errors, 5xx and 429 with backoff, and wait out an exhausted
rate-limit window before the next request; 401/403 raise `AuthError` saying what to fix.
`XClient.open_stream` opens a streaming endpoint once (the stream collector owns the reconnect
rules) with a read timeout equal to the stall timeout. The token never appears in reprs,
logs or errors.

When X served a response is its HTTP `Date` (X's clock, not ours): `get_served` returns it with
the body, and an open stream tells the time of each moment of the connection by X's clock (its
`Date` at connect plus the time since). Collectors record it so that, of two copies of a tweet,
the one X served later wins.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from tweetpipe import retry
from tweetpipe.errors import ConfigError
from tweetpipe.settings import Settings
from tweetpipe.xapi.errors import (
    AuthError,
    NetworkError,
    RateLimited,
    RequestError,
    ServerError,
    StreamStalled,
    TransientError,
    auth_message,
)
from tweetpipe.xapi.fields import Selection
from tweetpipe.xapi.limits import Backoff, RateLimit, reset_wait

Json = dict[str, Any]
log = logging.getLogger(__name__)
OnWait = Callable[[str, float], None]


@dataclass(frozen=True)
class ClientOptions:
    """Timeouts, retry policy and pacing; `backoff.scale` shrinks every backoff (tests)."""

    timeout: float = 30.0
    connect_timeout: float = 10.0
    stall_timeout: float = 20.0
    backoff: Backoff = field(default_factory=lambda: Backoff(http_base=1.0, http_cap=60.0,
                                                             too_many_base=15.0))
    max_attempts: int = 12
    reset_margin: float = 1.0
    min_interval: Mapping[str, float] = field(
        default_factory=lambda: {"/2/tweets/search/all": 1.0})


@dataclass(frozen=True)
class Served:
    """A decoded response body and when X served it (ISO 8601, UTC; None without a `Date`)."""

    body: Json
    served_at: str | None


class ServedStream:
    """The raw chunks of an open stream, and X's clock while it is open."""

    def __init__(self, chunks: Iterator[bytes], server_time: float | None) -> None:
        self._chunks = chunks
        self._server_time = server_time
        self._opened = time.monotonic()

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks

    def served_at(self) -> str | None:
        """Now by X's clock: its `Date` at connect plus the time since (None without a Date)."""
        if self._server_time is None:
            return None
        return iso_time(self._server_time + time.monotonic() - self._opened)


def iso_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


class XClient:
    """X API v2 over httpx; keyword-only, injectable `transport` and `sleep` for tests."""

    def __init__(self, *, settings: Settings, options: ClientOptions | None = None,
                 selection: Selection | None = None, transport: httpx.BaseTransport | None = None,
                 on_wait: OnWait | None = None, stop: threading.Event | None = None) -> None:
        if settings.bearer_token is None or not settings.bearer_token.get_secret_value():
            raise ConfigError("no X API bearer token: set TWITTER_BEARER_TOKEN (or "
                              "X_BEARER_TOKEN) in the environment or .env")
        self.options = options or ClientOptions()
        self.selection = selection or Selection()
        self.base_url = settings.x_api_base_url.rstrip("/")
        self.on_wait = on_wait
        self.stop = stop or threading.Event()
        self.rate_limit = RateLimit()
        self._not_before = 0.0
        self._last_request: dict[str, float] = {}
        o = self.options
        self._http = httpx.Client(
            base_url=self.base_url, transport=transport,
            headers={"Authorization": f"Bearer {settings.bearer_token.get_secret_value()}",
                     "User-Agent": "tweetpipe"},
            timeout=httpx.Timeout(o.timeout, connect=o.connect_timeout),
        )

    def __repr__(self) -> str:
        return f"XClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> XClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- waiting ----------------------------------------------------------------------------
    def wait(self, reason: str, seconds: float) -> None:
        """Sleep (interruptibly: `stop` ends it) and tell the progress callback why."""
        if seconds <= 0:
            return
        if self.on_wait:
            self.on_wait(reason, seconds)
        self.stop.wait(seconds)

    def _pace(self, path: str) -> None:
        now = time.monotonic()
        if self._not_before > now:
            self.wait(f"rate limit exhausted ({self.rate_limit.describe()})",
                      self._not_before - now)
        interval = self.options.min_interval.get(path, 0.0)
        last = self._last_request.get(path)
        if interval and last is not None and time.monotonic() - last < interval:
            self.stop.wait(interval - (time.monotonic() - last))
        self._last_request[path] = time.monotonic()

    def _note_limits(self, response: httpx.Response) -> RateLimit:
        rl = RateLimit.from_headers(response.headers)
        if rl.known:
            self.rate_limit = rl
        if rl.exhausted:
            wait = reset_wait(rl, local_now=time.time(), margin=self.options.reset_margin) or 0
            self._not_before = time.monotonic() + wait
        return rl

    # -- REST -------------------------------------------------------------------------------
    def get(self, path: str, params: Mapping[str, Any] | None = None, *,
            fields: bool = True) -> Json:
        return self.request("GET", path, params, fields=fields)

    def post(self, path: str, params: Mapping[str, Any] | None = None,
             body: Json | None = None) -> Json:
        return self.request("POST", path, params, body=body, fields=False)

    def get_served(self, path: str, params: Mapping[str, Any] | None = None) -> Served:
        """A GET with the default fields: the body and when X served it."""
        return self.request_served("GET", path, params)

    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None, *,
                body: Json | None = None, fields: bool = True) -> Json:
        """One API call, retried on transient failures; the decoded JSON body."""
        return self.request_served(method, path, params, body=body, fields=fields).body

    def request_served(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                       *, body: Json | None = None, fields: bool = True) -> Served:
        """One API call, retried on transient failures; the decoded JSON body and its time.

        A transient error waits its own time (a rate-limit reset) or the backoff of its kind;
        a 400 naming field values X rejects is retried at once without them.
        """
        def once() -> Served:
            query = {**(self.selection.params() if fields else {}), **(params or {})}
            return self._once(method, path, query, body)

        def retryable(exc: BaseException) -> bool:
            return isinstance(exc, TransientError) or (
                fields and isinstance(exc, RequestError) and self._drop_rejected(exc))

        return retry.call(once, retry_on=retryable, delay=self._retry_delay,
                          attempts=self.options.max_attempts, stop=self.stop,
                          on_retry=self._report_retry, what=f"{method} {path}")

    def _retry_delay(self, attempt: int, exc: BaseException | None) -> float:
        if not isinstance(exc, TransientError):
            return 0.0  # a request fixed by dropping rejected fields goes again at once
        return exc.wait if exc.wait is not None else self.options.backoff.delay(exc.kind, attempt)

    def _report_retry(self, attempt: retry.Attempt) -> None:
        if self.on_wait and attempt.delay > 0:
            self.on_wait(f"{attempt.error} — retry {attempt.number}", attempt.delay)

    def _once(self, method: str, path: str, query: Mapping[str, Any], body: Json | None
              ) -> Served:
        self._pace(path)
        try:
            response = self._http.request(method, path, params=query,
                                          content=orjson.dumps(body) if body else None,
                                          headers={"Content-Type": "application/json"}
                                          if body else None)
        except httpx.TransportError as exc:
            raise NetworkError(f"network error: {type(exc).__name__}", path=path) from None
        server_time = self.check(response, path).server_time
        return Served(decode(response, path),
                      None if server_time is None else iso_time(server_time))

    def check(self, response: httpx.Response, path: str) -> RateLimit:
        """Raise the typed error for a non-2xx response (reading its body if needed); the
        response's rate-limit headers and `Date`."""
        rl = self._note_limits(response)
        status = response.status_code
        if status < 300:
            return rl
        response.read()
        detail = problem_detail(response)
        if status in (401, 403):
            raise AuthError(auth_message(status), status=status, path=path)
        if status == 429:
            raise RateLimited("rate limited (429)", wait=self._429_wait(rl), status=429,
                              path=path)
        if status >= 500:
            raise ServerError(f"server error: {detail}", status=status, path=path)
        raise RequestError(f"request refused: {detail}", body=_json_or_none(response),
                           status=status, path=path)

    def _429_wait(self, rl: RateLimit) -> float | None:
        """Until the reset if the window is used up; 1 s if requests remain (a per-second
        cap, as on full-archive search); None (exponential backoff) without headers."""
        if rl.exhausted:
            return reset_wait(rl, local_now=time.time(), margin=self.options.reset_margin)
        return 1.0 + self.options.reset_margin if rl.known else None

    def _drop_rejected(self, exc: RequestError) -> bool:
        """Retry without field/expansion values a 400 rejected; False if none were named.

        Logs a warning naming what is dropped: the data collected from then on lacks it."""
        body = exc.body if isinstance(exc.body, dict) else {}
        names = set(self.selection.values)
        changed = False
        for error in body.get("errors") or []:
            for name, values in (error.get("parameters") or {}).items():
                if name in names and values:
                    before = self.selection
                    self.selection = before.without(name, values)
                    dropped = [v for v in before.values.get(name, ())
                               if v not in self.selection.values.get(name, ())]
                    if dropped:
                        log.warning("%s rejected %s=%s (%s): asking without them from now on",
                                    exc.context.get("path", "the X API"), name,
                                    ",".join(dropped), error.get("message") or "no reason")
                    changed = changed or self.selection != before
        return changed

    # -- streams ----------------------------------------------------------------------------
    @contextmanager
    def open_stream(self, path: str, params: Mapping[str, Any] | None = None
                    ) -> Iterator[ServedStream]:
        """Open a stream once; yields its raw chunks (iterable) and X's clock. Raises typed
        errors."""
        self._pace(path)
        query = {**self.selection.params(), **(params or {})}
        o = self.options
        timeout = httpx.Timeout(o.timeout, connect=o.connect_timeout, read=o.stall_timeout)
        try:
            with self._http.stream("GET", path, params=query, timeout=timeout) as response:
                server_time = self.check(response, path).server_time
                yield ServedStream(response.iter_raw(), server_time)
        except httpx.ReadTimeout:
            raise StreamStalled(f"no data for {o.stall_timeout:g}s: stalled", path=path) from None
        except httpx.TransportError as exc:
            raise NetworkError(f"network error: {type(exc).__name__}", path=path) from None


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None


def problem_detail(response: httpx.Response) -> str:
    body = _json_or_none(response)
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0].get("message") or errors[0].get("detail")
            if first:
                return str(first)
        return str(body.get("detail") or body.get("title") or response.status_code)
    return f"HTTP {response.status_code}"


def decode(response: httpx.Response, path: str) -> Json:
    body = _json_or_none(response)
    if not isinstance(body, dict):
        raise ServerError("the X API sent a body that is not a JSON object",
                          status=response.status_code, path=path)
    return body
