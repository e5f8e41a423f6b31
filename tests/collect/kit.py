"""Helpers for the collector's integration tests: an emulator, settings pointing at it."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from tweetpipe.demo import sample_files
from tweetpipe.settings import Settings
from tweetpipe.xapi import Backoff, ClientOptions, XClient
from tweetpipe_emulator import Emulator, EmulatorOptions, parse_query
from tweetpipe_emulator.validation import Clock

from ..pipeline import query

TOKEN = "collect-test-token"
#: backoffs scaled down 100x, stalls after 0.5 s, small reset margin.
FAST = ClientOptions(stall_timeout=0.5, reset_margin=0.05, min_interval={},
                     backoff=Backoff(scale=0.01, http_base=1.0, too_many_base=15.0))


def emulator(**options: Any) -> Emulator:
    opts: dict[str, Any] = {"token": TOKEN, "keepalive_s": 0.1}
    opts.update(options)
    return Emulator(EmulatorOptions(**opts)).start()


def with_api(settings: Settings, emu: Emulator) -> Settings:
    return settings.model_copy(update={"x_api_base_url": emu.url,
                                       "bearer_token": SecretStr(TOKEN)})


def client(settings: Settings, **kw: Any) -> XClient:
    return XClient(settings=settings, options=kw.pop("options", FAST), **kw)


def matching_ids(emu: Emulator, text: str, endpoint: str = "search_all") -> set[str]:
    """The ids `endpoint` (search_all, search_recent: its 7-day window) serves for `text`."""
    node = parse_query(text)
    visible = Clock(emu.state.options, emu.state.store).visible(endpoint)
    return {str(e.id) for e in emu.state.store.newest_first()
            if visible(e) and node.match(e.subject)}


def merged_ids(settings: Settings) -> set[str]:
    return {str(r[0]) for r in query(settings, "SELECT tweet_id FROM tweet_merge")}


__all__ = ["FAST", "TOKEN", "client", "emulator", "matching_ids", "merged_ids",
           "sample_files", "with_api"]
