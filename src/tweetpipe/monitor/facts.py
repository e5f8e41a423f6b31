"""One snapshot of a pipeline: the facts behind `status --json`, the dashboard and `/metrics`.

Sources of truth, read at snapshot time: the services (pids, health), PostgreSQL (rows per
table, dead letters by reason, the transform's watermark), Kafka against the stored offsets
(lag per partition), and the running components' reports (`reports`), merged with what the
supervisor knows of them (state, restarts). Any part that cannot be read is None, with the
reason under "errors": a snapshot never fails.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tweetpipe import db
from tweetpipe.api import Pipeline, Status
from tweetpipe.errors import TweetpipeError
from tweetpipe.monitor import reports
from tweetpipe.settings import Settings

Facts = dict[str, Any]
#: a component whose report is older than this is shown as silent
STALE_AFTER_S = 10.0


def snapshot(settings: Settings, *, run_dir: Path | None = None,
             supervised: Mapping[str, Mapping[str, Any]] | None = None) -> Facts:
    """Everything known now; `supervised`: the supervisor's view by component name (state,
    pid, restarts, last_exit)."""
    status = Pipeline(settings).status()
    facts: Facts = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "topic": status.topic, "group": status.group,
        "services": [{"name": s.name, "state": s.state, "healthy": s.healthy, "pid": s.pid,
                      "address": s.address} for s in status.services],
        "tables": status.tables, "dead_letters": status.dead_letters,
        "partitions": _partitions(status), "lag": status.lag,
        "transform": None,
        "components": components(run_dir, supervised or {}),
        "errors": {"database": status.database_error, "kafka": status.kafka_error},
    }
    if status.tables is not None:
        try:
            facts["transform"] = transform_position(settings)
        except TweetpipeError as exc:
            facts["errors"]["database"] = str(exc)
    return facts


def _partitions(status: Status) -> list[dict[str, int | None]] | None:
    if status.partitions is None:
        return None
    return [{"partition": p.partition, "committed": p.stored, "end": p.log_end, "lag": p.lag}
            for p in status.partitions]


def transform_position(settings: Settings) -> dict[str, Any] | None:
    """The batch transform's watermark against the newest load sequence (None before the
    tables exist)."""
    with db.connect(settings, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('transform_watermarks') IS NOT NULL"
                              " AND to_regclass('tweet_merge') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return None
        newest = conn.execute("SELECT coalesce(max(load_seq), 0) FROM tweet_merge").fetchone()
        mark = conn.execute("SELECT load_seq, updated_at FROM transform_watermarks"
                            " WHERE job = 'batch'").fetchone()
    top = int(newest[0]) if newest else 0
    watermark = int(mark[0]) if mark else 0
    return {"watermark": watermark, "max_load_seq": top, "behind": max(top - watermark, 0),
            "updated_at": mark[1].isoformat(timespec="seconds") if mark else None}


def components(run_dir: Path | None, supervised: Mapping[str, Mapping[str, Any]]
               ) -> dict[str, dict[str, Any]]:
    """Each component's report merged with the supervisor's view of it."""
    found: dict[str, dict[str, Any]] = {}
    now = time.time()
    for name, report in reports.read_all(run_dir).items():
        age = now - float(report.get("updated", 0))
        found[name] = {"state": "silent" if age > STALE_AFTER_S else "running",
                       "pid": report.get("pid"), "line": report.get("line", ""),
                       "counters": report.get("counters", {}), "report_age_s": round(age, 1)}
    for name, view in supervised.items():
        found.setdefault(name, {"line": "", "counters": {}}).update(view)
    return found
