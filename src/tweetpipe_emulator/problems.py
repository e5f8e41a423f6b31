"""X API v2 error bodies, as the real API sends them (RFC 7807 Problem objects)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tweetpipe.errors import TweetpipeError

Json = dict[str, Any]

UNAUTHORIZED: Json = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
TOO_MANY_REQUESTS: Json = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}
TOO_MANY_CONNECTIONS: Json = {
    "title": "ConnectionException",
    "detail": "This stream is currently at the maximum allowed connection limit.",
    "connection_issue": "TooManyConnections",
    "type": "https://api.twitter.com/2/problems/streaming-connection",
}
NO_RULES: Json = {
    "title": "ConnectionException",
    "detail": "This stream has no rules. Add rules with POST /2/tweets/search/stream/rules.",
    "connection_issue": "RuleConfigurationIssue",
    "type": "https://api.twitter.com/2/problems/streaming-connection",
}
OPERATIONAL_DISCONNECT: Json = {
    "errors": [
        {
            "title": "operational-disconnect",
            "disconnect_type": "OperationalDisconnect",
            "detail": "This stream has been disconnected for operational reasons.",
            "type": "https://api.twitter.com/2/problems/operational-disconnect",
        }
    ]
}
NOT_FOUND: Json = {"title": "Not Found Error", "type": "about:blank", "status": 404}
NOT_FOUND["detail"] = "The requested resource was not found."


def server_error(status: int) -> Json:
    titles = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
    titles[504] = "Gateway Timeout"
    title = titles.get(status, "Internal Server Error")
    return {"title": title, "detail": title, "type": "about:blank", "status": status}


def invalid_request(message: str, parameters: Mapping[str, list[str]]) -> Json:
    return {
        "errors": [{"parameters": dict(parameters), "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }


class ApiError(TweetpipeError):
    """Raised inside handlers; the server answers `status` with `body`."""

    def __init__(self, status: int, body: Json) -> None:
        super().__init__(str(body.get("title", "error")), status=status)
        self.status = status
        self.body = body


def bad_param(name: str, value: str, message: str) -> ApiError:
    return ApiError(400, invalid_request(message, {name: [value]}))
