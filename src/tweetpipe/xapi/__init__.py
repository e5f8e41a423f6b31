"""X API v2 client: field selection, rate limits, retries, streams."""

from tweetpipe.xapi.client import ClientOptions, Served, ServedStream, XClient
from tweetpipe.xapi.errors import (
    AuthError,
    NetworkError,
    RateLimited,
    RequestError,
    ServerError,
    StreamStalled,
    TransientError,
)
from tweetpipe.xapi.fields import Selection
from tweetpipe.xapi.limits import Backoff, RateLimit, Reconnects, reset_wait

RECENT = "/2/tweets/search/recent"
ARCHIVE = "/2/tweets/search/all"
FILTERED_STREAM = "/2/tweets/search/stream"
SAMPLE_STREAM = "/2/tweets/sample/stream"
RULES = "/2/tweets/search/stream/rules"

__all__ = [
    "ARCHIVE", "FILTERED_STREAM", "RECENT", "RULES", "SAMPLE_STREAM", "AuthError", "Backoff",
    "ClientOptions", "NetworkError", "RateLimit", "RateLimited", "Reconnects", "RequestError",
    "Selection", "Served", "ServedStream", "ServerError", "StreamStalled", "TransientError",
    "XClient", "reset_wait",
]
