"""The dashboard's health panel on its own: `status_facts(settings)` builds the facts the page
shows (services, rows per table, dead letters, Kafka lag per partition, the transform's
watermark) from `Pipeline.status()`, for `tweetpipe dashboard` run without a supervisor. It has
no components (collector, loader, transform): nothing reports them here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tweetpipe import db
from tweetpipe.api import Pipeline, Status
from tweetpipe.dashboard import queries
from tweetpipe.errors import TweetpipeError
from tweetpipe.settings import Settings

log = logging.getLogger(__name__)
Facts = dict[str, Any]


def status_facts(settings: Settings) -> Facts:
    """One snapshot in the shape `serve(facts=...)` expects; never raises."""
    status = Pipeline(settings).status()
    facts = from_status(status)
    if status.tables is not None:
        try:
            with db.connect(settings, autocommit=True) as conn:
                facts["transform"] = queries.transform_position(conn)
        except TweetpipeError as exc:
            facts["errors"]["database"] = str(exc)
    return facts


def from_status(status: Status) -> Facts:
    """Pure: a `Status` as facts (without the transform's watermark)."""
    partitions = None if status.partitions is None else [
        {"partition": p.partition, "committed": p.stored, "end": p.log_end, "lag": p.lag}
        for p in status.partitions]
    return {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "topic": status.topic, "group": status.group,
        "services": [{"name": s.name, "state": s.state, "pid": s.pid, "address": s.address}
                     for s in status.services],
        "tables": status.tables, "dead_letters": dict(status.dead_letters),
        "partitions": partitions, "lag": status.lag, "transform": None, "components": {},
        "errors": {"database": status.database_error, "kafka": status.kafka_error},
    }


def status_facts_of(settings: Settings) -> Callable[[], Facts]:
    """`status_facts` bound to `settings`, for `serve(facts=...)`."""
    return lambda: status_facts(settings)
