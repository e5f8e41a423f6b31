"""Schemathesis against X's official OpenAPI spec, over every operation the emulator serves.

A bounded, seeded (derandomized) run: positive and negative requests per operation, each
answered (no dropped connection), with a status code, content type and body the spec allows for
that operation, and never a 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import schemathesis
from emukit import AUTH, _spec, make, validate
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tweetpipe_emulator import DEFAULT_RATE_LIMITS, Emulator, EndpointLimit
from tweetpipe_emulator.server import ROUTES

#: every (method, path) the emulator serves; a route added to the server is fuzzed here too.
SERVED = {(method, path) for method, path in ROUTES}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
STREAM_LINES = {"/2/tweets/sample/stream": "StreamingTweetResponse",
                "/2/tweets/search/stream": "FilteredStreamingTweetResponse"}
schema = schemathesis.openapi.from_dict(_spec()).include(
    lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in SERVED
)


def test_every_served_route_is_in_the_spec() -> None:
    in_spec = {(op.method.upper(), op.path) for op in
               (result.ok() for result in schema.get_all_operations())}
    assert in_spec == SERVED, SERVED - in_spec  # the filtered spec: every served route


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[Emulator]:
    unlimited = {name: EndpointLimit(1_000_000) for name in DEFAULT_RATE_LIMITS}
    # streams end after 0.05 s so that each request gets its whole answer
    with make(rate_limits=unlimited, stream_max_s=0.05, keepalive_s=0.05,
              body_timeout_s=2.0) as emulator:
        yield emulator


@schema.parametrize()
@settings(max_examples=20, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_conforms_to_the_spec(case: Any, fuzzed: Emulator) -> None:
    response = case.call(base_url=fuzzed.url, headers=AUTH, timeout=10)
    stream = STREAM_LINES.get(case.operation.path)
    if stream is None or response.status_code != 200:
        case.validate_response(response, checks=CHECKS, headers=AUTH)
        return
    # a stream's 200 body is JSON lines (and keep-alive blank lines), each line one document
    case.validate_response(response, checks=CHECKS[:3], headers=AUTH)
    lines = [line for line in response.content.split(b"\r\n") if line.strip()]
    for line in lines:
        validate(orjson.loads(line), stream)
