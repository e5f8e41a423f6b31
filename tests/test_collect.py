from typing import Any

import orjson

from tweetpipe.collect import RAW_LINE_HEADER, replay

from .data import all_files, sample


class ListSink:
    def __init__(self) -> None:
        self.messages: list[tuple[str | None, bytes, Any]] = []

    def send(self, key: str | None, value: bytes, headers: Any = None) -> None:
        self.messages.append((key, value, headers))

    def send_record(self, record: dict[str, Any]) -> None:
        self.send(str(record["id"]), orjson.dumps(record))


def test_replay_sends_every_tweet_keyed_by_id_and_forwards_bad_lines() -> None:
    sink = ListSink()
    report = replay([sample("streaming_output_with_error")], sink)
    assert (report.lines, report.payloads, report.tweets, report.bad_lines) == (8, 7, 7, 1)
    keyed = [m for m in sink.messages if m[0] is not None]
    assert all(orjson.loads(v)["id"] == k for k, v, _ in keyed)
    (raw,) = [m for m in sink.messages if m[0] is None]
    assert raw[2] == {RAW_LINE_HEADER: "streaming_output_with_error.jsonl:8"}
    assert "truncated" in report.problems[0]


def test_replay_of_all_samples_counts() -> None:
    sink = ListSink()
    report = replay(all_files(), sink)
    assert report.tweets == 531
    assert len({k for k, _, _ in sink.messages if k}) == 431
