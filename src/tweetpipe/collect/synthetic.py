"""Synthetic load: seeded, realistic tweets (languages, entities, emoji, replies, quotes,
retweets, authors in includes) produced to Kafka through the same merge as real payloads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from tweetpipe.collect.replay import CollectReport, RecordSink, now_iso
from tweetpipe.emulator.synthetic import SyntheticSource
from tweetpipe.merge import merge_payload


def synthetic_records(count: int, *, seed: int = 0) -> Iterator[dict[str, Any]]:
    """`count` merged tweet records with distinct ids, the same for the same seed."""
    source = SyntheticSource(seed=seed)
    for _ in range(count):
        tweet, includes = source.make()
        payload = {"data": [tweet], "includes": includes}
        yield from merge_payload(payload, provenance={"source": "synthetic",
                                                      "collected_at": now_iso()})


def produce_synthetic(sink: RecordSink, count: int, *, seed: int = 0,
                      on_progress: Callable[[CollectReport], None] | None = None
                      ) -> CollectReport:
    report = CollectReport()
    for record in synthetic_records(count, seed=seed):
        sink.send_record(record)
        report.payloads += 1
        report.tweets += 1
        if on_progress and report.tweets % 5000 == 0:
            on_progress(report)
    return report
