"""The emulator stays at a fixed size on a long run: the generator forgets its tweets once they
are older than X's backfill window, and the streams keep a bounded list of served ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from emukit import make
from streamkit import read_stream

from tweetpipe_emulator import SyntheticSource

SAMPLE = "/2/tweets/sample/stream"


class Ticks:
    """A clock one second further on every call: 20 simulated minutes in a moment."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp() - 1200

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_the_generator_keeps_only_its_window_of_tweets() -> None:
    emu = make(data_files=(), synthetic_keep_s=60.0)
    source = SyntheticSource(seed=3, clock=Ticks())
    first = [emu.generate(source)[0] for _ in range(1200)]  # 1 tweet a second for 20 minutes
    store = emu.state.store
    assert 60 <= len(store.entries) <= 61, "the last minute only"
    assert len(store.ids) == len(store.entries)
    assert len(store.objects["tweets"]) <= 2 * 61, "and their referenced tweets"
    assert set(first[-60:]) <= {str(i) for i in store.ids}
    assert not {str(i) for i in store.ids} & set(first[:1000])


def test_added_tweets_stay_and_backfill_still_serves_the_window() -> None:
    """Tweets added on purpose (add_synthetic) are not the generator's: they are never
    forgotten; what the generator kept is what backfill serves."""
    with make(data_files=(), replay_recorded_streams=False, synthetic_keep_s=300.0) as emu:
        kept = emu.add_synthetic(SyntheticSource(seed=1), count=3)
        source = SyntheticSource(seed=2, clock=Ticks())
        for _ in range(1200):
            emu.generate(source)
        recent = [e for e in emu.state.store.newest_first()
                  if e.created_at and e.created_at > datetime.now(UTC) - timedelta(minutes=2)]
        back = read_stream(emu.url, SAMPLE, lines=len(recent), backfill_minutes=2)
    ids = {str(i) for i in emu.state.store.ids}
    assert set(kept) <= ids
    assert len(ids) <= 3 + 301
    assert [orjson.loads(line)["data"]["id"] for line in back.lines] == [
        str(e.id) for e in reversed(recent)]


def test_served_ids_are_bounded_and_counted() -> None:
    stats = make(data_files=(), served_keep=100).stream_stats("stream_sample")
    for i in range(1000):
        stats.add_served(str(i))
    assert stats.served == [str(i) for i in range(900, 1000)]
    assert stats.served_total == 1000
