"""Fixtures: a real emulator on port 0 per module and an httpx client for it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from emukit import AUTH, make

from tweetpipe_emulator import Emulator, EndpointLimit


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    # no 1 request/second cap on search/all here; test_emulator_limits covers it
    with make(rate_limits={"search_all": EndpointLimit(300)}) as emulator:
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.url, headers=AUTH, timeout=10) as c:
        yield c
