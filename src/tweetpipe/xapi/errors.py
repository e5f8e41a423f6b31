"""Errors of the X API client; all are `XApiError`s carrying `status=` where there is one."""

from __future__ import annotations

from typing import Any

from tweetpipe.errors import RetryableXApiError, XApiError


class AuthError(XApiError):
    """401/403: the token is missing, wrong, or lacks access. A person has to fix it."""


class RequestError(XApiError):
    """4xx other than 401/403/429: the request itself is wrong (bad query, bad parameter)."""

    def __init__(self, message: str, *, body: Any = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.body = body  # the decoded error body, to find which parameter values it names


class TransientError(RetryableXApiError):
    """Retrying later can help. `kind` picks the backoff: "network", "http" or "429"."""

    kind = "http"

    def __init__(self, message: str, *, wait: float | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.wait = wait  # seconds the server asked for (rate-limit reset), if it said


class NetworkError(TransientError):
    kind = "network"


class ServerError(TransientError):
    kind = "http"


class RateLimited(TransientError):
    kind = "429"


class StreamStalled(NetworkError):
    """No byte (not even a keep-alive) within the stall timeout."""


def auth_message(status: int) -> str:
    if status == 401:
        return ("the X API refused the bearer token (401): set TWITTER_BEARER_TOKEN (or "
                "X_BEARER_TOKEN) to your app's bearer token from developer.x.com")
    return ("the X API denied access (403): check that your app is in a project and its "
            "access level includes this endpoint (full-archive search needs Pro or higher)")
