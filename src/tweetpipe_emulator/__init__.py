"""A faithful local X API v2 emulator, so tweetpipe can be developed and tested offline.

Endpoints (all need ``Authorization: Bearer <token>``):

* ``GET /2/tweets/search/recent`` and ``/2/tweets/search/all``
* ``GET /2/tweets/search/stream`` (filtered) and ``/2/tweets/sample/stream``
* ``GET|POST /2/tweets/search/stream/rules``

Tweets come from recorded JSONL files (search pages and stream messages; undecodable lines are
skipped and counted in `Emulator.load_report`) and/or a seeded synthetic generator.
Fault injection grammar: see `tweetpipe_emulator.faults`.

Use::

    with Emulator(EmulatorOptions(data_files=(path,), faults="500:0.1,seed=7")) as emu:
        httpx.get(emu.url + "/2/tweets/search/recent", params={"query": "brexit"}, ...)
"""

from tweetpipe.collect.synthetic import SyntheticSource
from tweetpipe_emulator.emulator import Emulator, run_forever
from tweetpipe_emulator.faults import FaultPlan, parse_faults
from tweetpipe_emulator.options import (
    DEFAULT_RATE_LIMITS,
    DEFAULT_TOKEN,
    EmulatorOptions,
    EndpointLimit,
)
from tweetpipe_emulator.query import QueryError, parse_query

__all__ = [
    "DEFAULT_RATE_LIMITS",
    "DEFAULT_TOKEN",
    "Emulator",
    "EmulatorOptions",
    "EndpointLimit",
    "FaultPlan",
    "QueryError",
    "SyntheticSource",
    "parse_faults",
    "parse_query",
    "run_forever",
]
