"""Collect tweets and hand them to Kafka: recorded JSONL (`replay`), and the X API v2."""

from tweetpipe.collect.replay import (
    RAW_LINE_HEADER,
    CollectReport,
    RecordSink,
    handle_line,
    iter_lines,
    now_iso,
    replay,
)

__all__ = ["RAW_LINE_HEADER", "CollectReport", "RecordSink", "handle_line", "iter_lines",
           "now_iso", "replay"]
