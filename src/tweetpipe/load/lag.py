"""How far the loaders are behind: the one place lag is computed.

A partition's lag is its log end minus the next offset the group stored in PostgreSQL (the
offsets that count: they commit with the rows), never less than the log start, since offsets
below it were deleted by retention and cannot be loaded any more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

from tweetpipe import db, kafka
from tweetpipe.load import writer
from tweetpipe.settings import Settings


@dataclass(frozen=True)
class PartitionPosition:
    partition: int
    log_start: int
    log_end: int
    stored: int | None  # next offset the group stored in PostgreSQL; None if nothing yet

    @property
    def loaded_to(self) -> int:
        """The next offset to load: the stored one, or the log start."""
        return max(self.stored if self.stored is not None else self.log_start, self.log_start)

    @property
    def lag(self) -> int:
        return max(self.log_end - self.loaded_to, 0)


def positions(marks: Mapping[int, tuple[int, int]], stored: Mapping[int, int]
              ) -> list[PartitionPosition]:
    """Pure: per partition, from (low, high) watermarks and the stored next offsets."""
    return [PartitionPosition(p, low, high, stored.get(p))
            for p, (low, high) in sorted(marks.items())]


def total_lag(found: list[PartitionPosition]) -> int:
    return sum(p.lag for p in found)


def topic_positions(settings: Settings, conn: psycopg.Connection[Any]
                    ) -> list[PartitionPosition]:
    """Every partition of the configured topic, for the configured group."""
    marks = kafka.watermarks(settings)
    stored = writer.stored_offsets(conn, settings.kafka_group, settings.kafka_topic, list(marks))
    return positions(marks, stored)


def loaded_to_log_end(settings: Settings) -> bool:
    """True when the group's stored offsets reach the log end of every partition."""
    with db.connect(settings, autocommit=True) as conn:
        return all(p.lag == 0 for p in topic_positions(settings, conn))
