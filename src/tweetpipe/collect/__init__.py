"""Collect tweets and hand them to Kafka: recorded JSONL (`replay`), and the X API v2
(`search`, `stream`, with `rules` for the filtered stream)."""

from tweetpipe.collect.journal import Journal, Spool, SpoolProducer
from tweetpipe.collect.replay import (
    RAW_LINE_HEADER,
    RecordSink,
    handle_line,
    iter_lines,
    now_iso,
    replay,
)
from tweetpipe.collect.search import SearchOptions, collect_search
from tweetpipe.collect.stats import CollectStats
from tweetpipe.collect.stream import StreamCollector, StreamOptions

__all__ = ["RAW_LINE_HEADER", "CollectStats", "Journal", "RecordSink", "SearchOptions", "Spool",
           "SpoolProducer", "StreamCollector", "StreamOptions", "collect_search", "handle_line",
           "iter_lines", "now_iso", "replay"]
