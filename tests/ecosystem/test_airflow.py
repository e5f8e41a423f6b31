"""airflow/dags/tweetpipe_dag.py run by a real Apache Airflow, `airflow dags test`, against the
session's Kafka and PostgreSQL and the X API emulator: its three tasks run tweetpipe's command
line (collect search → load → transform) and leave every tweet the emulator serves for the query,
once, in tweet_merge and tweet_transformed.

Airflow lives in its own virtualenv (scripts/airflow_venv.sh makes .venv-airflow; AIRFLOW_VENV
names another): without it this test is skipped on a developer's machine and fails in CI (CI set).
Airflow's metadata database is SQLite in a fresh AIRFLOW_HOME, migrated first.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tweetpipe.settings import Settings
from tweetpipe_emulator.cli import match_all_query

from ..collect.kit import emulator, matching_ids, merged_ids, sample_files, with_api
from ..pipeline import count, settings_env

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "airflow" / "dags"
DAG_ID = "tweetpipe"
#: the tweetpipe command of the venv running the tests
TWEETPIPE = Path(sys.executable).with_name("tweetpipe")
#: search pages are paced at 1 request/second: the sample takes a few pages; then --follow polls
COLLECT_SECONDS = 25


@pytest.fixture(scope="module")
def airflow() -> Path:
    venv = Path(os.environ.get("AIRFLOW_VENV") or ROOT / ".venv-airflow")
    command = venv / "bin" / "airflow"
    if not command.exists():
        message = f"Apache Airflow is not installed in {venv}: run scripts/airflow_venv.sh"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set: this test must run)")
        pytest.skip(message)
    return command


def run(command: list[str], env: dict[str, str], log: Path, timeout: float
        ) -> subprocess.CompletedProcess[bytes]:
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(command)}\n".encode())
        out.flush()
        return subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=timeout, check=False)


def tail(log: Path, lines: int = 60) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def task_states(airflow_home: Path) -> dict[str, str | None]:
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        rows = db.execute("SELECT task_id, state FROM task_instance WHERE dag_id = ?",
                          (DAG_ID,)).fetchall()
    return {str(task): state for task, state in rows}


def test_the_dag_collects_loads_and_transforms(airflow: Path, pipeline: Settings,
                                                tmp_path: Path) -> None:
    emu = emulator(data_files=tuple(sample_files()))
    try:
        query = match_all_query(emu.state.store)
        expected = matching_ids(emu, query)
        home = tmp_path / "airflow-home"
        workdir = tmp_path / "work"
        workdir.mkdir()
        env = settings_env(with_api(pipeline, emu)) | {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            # the DAG's settings, as Airflow Variables from the environment
            "AIRFLOW_VAR_TWEETPIPE_BIN": str(TWEETPIPE),
            "AIRFLOW_VAR_TWEETPIPE_WORKDIR": str(workdir),
            "AIRFLOW_VAR_TWEETPIPE_QUERY": query,
            "AIRFLOW_VAR_TWEETPIPE_COLLECT_ARGS": "--archive",
            "AIRFLOW_VAR_TWEETPIPE_COLLECT_SECONDS": str(COLLECT_SECONDS),
            "AIRFLOW_VAR_TWEETPIPE_POLL_SECONDS": "3",
            # its shape: one quick retry, so a failing task fails the test soon
            "TWEETPIPE_RETRIES": "1", "TWEETPIPE_RETRY_DELAY_SECONDS": "1",
        }
        log = tmp_path / "airflow.log"
        started = time.monotonic()
        migrated = run([str(airflow), "db", "migrate"], env, log, timeout=300)
        assert migrated.returncode == 0, f"airflow db migrate failed:\n{tail(log)}"
        tested = run([str(airflow), "dags", "test", DAG_ID], env, log, timeout=900)
        took = time.monotonic() - started
    finally:
        emu.stop()
    states = task_states(home)
    assert tested.returncode == 0 and states == dict.fromkeys(
        ("collect", "load", "transform"), "success"), (
        f"airflow dags test: exit {tested.returncode}, tasks {states}:\n{tail(log)}")
    assert len(expected) == 431
    assert merged_ids(pipeline) == expected
    assert count(pipeline, "tweet_transformed") == len(expected)
    assert count(pipeline, "tweet_transformed", "sentiment_label IS NOT NULL") > 0
    assert count(pipeline, "trend_minute") > 0
    assert count(pipeline, "dead_letters") == 0
    print(f"airflow db migrate + dags test: {took:.0f}s")
