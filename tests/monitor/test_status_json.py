"""`tweetpipe status --json`: the facts `/metrics` and the dashboard show, for scripts."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest

from tweetpipe.settings import Settings

from ..data import DATA
from ..fixtures.services import External
from ..pipeline import count, load_all, replay, settings_env

pytestmark = pytest.mark.integration


def test_status_json_has_pids_rows_lag_and_dead_letters(pipeline: Settings,
                                                        external: External) -> None:
    replay(pipeline, [DATA / "brexit.jsonl", DATA / "streaming_output_with_error.jsonl"])
    load_all(pipeline)
    out = subprocess.run([sys.executable, "-m", "tweetpipe.cli", "status", "--json"],
                         env=settings_env(pipeline), capture_output=True, check=True).stdout
    facts = orjson.loads(out)
    services = {s["name"]: s for s in facts["services"]}
    assert set(services) == {"postgresql", "kafka"}
    assert all(s["healthy"] for s in services.values()), services
    ours = [s for s in services.values() if not getattr(external, s["name"].replace("ql", ""))]
    assert all(isinstance(s["pid"], int) for s in ours), services  # started by the suite
    assert facts["tables"]["tweet_merge"] == count(pipeline, "tweet_merge") > 0
    assert facts["dead_letters"] and sum(facts["dead_letters"].values()) == count(
        pipeline, "dead_letters")
    assert facts["lag"] == 0 and {p["lag"] for p in facts["partitions"]} == {0}
    assert facts["transform"]["behind"] == facts["transform"]["max_load_seq"] > 0
    assert facts["topic"] == pipeline.kafka_topic
    assert pipeline.db_pass.get_secret_value() not in out.decode()
