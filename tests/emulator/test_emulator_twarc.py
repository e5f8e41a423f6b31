"""twarc2, a second real X client, against the emulator: its own command line, run as a
program (twarc_redirect.py says how its hard-coded https://api.twitter.com is redirected).

Every outcome is checked against the emulator: the tweet ids twarc wrote are the ids the
emulator's matcher selects, the counts add up to them, the rules it added are the emulator's.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from emukit import DATA, TOKEN, make, unlimited
from tests.waiting import wait_until

from tweetpipe_emulator import Emulator, parse_query

pytest.importorskip("twarc")

LAUNCHER = Path(__file__).with_name("twarc_redirect.py")


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with unlimited() as emulator:
        yield emulator


def twarc2(emu: Emulator, tmp_path: Path, *args: str, timeout: float = 120) -> str:
    """Run `twarc2 ARGS` against the emulator; its stderr (twarc talks to people there)."""
    env = {**os.environ, "HOME": str(tmp_path), "BEARER_TOKEN": TOKEN}
    cmd = [sys.executable, str(LAUNCHER), emu.url, "--log", str(tmp_path / "twarc.log"), *args]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stderr


def lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def matching_ids(emu: Emulator, query: str, start: str | None = None,
                 end: str | None = None) -> set[str]:
    node = parse_query(query)
    lo = datetime.fromisoformat(start).replace(tzinfo=UTC) if start else None
    hi = datetime.fromisoformat(end).replace(tzinfo=UTC) if end else None
    return {str(e.id) for e in emu.state.store.newest_first() if node.match(e.subject)
            and (lo is None or (e.created_at is not None and e.created_at >= lo))
            and (hi is None or (e.created_at is not None and e.created_at < hi))}


@pytest.mark.parametrize("archive", [False, True], ids=["recent", "archive"])
def test_search(emu: Emulator, tmp_path: Path, archive: bool) -> None:
    query = "brexit OR #kpop OR reliance"
    out = tmp_path / "tweets.jsonl"
    twarc2(emu, tmp_path, "search", *(["--archive"] if archive else []), "--hide-progress",
           query, str(out))
    pages = lines(out)
    got = [t["id"] for page in pages for t in page["data"]]
    assert len(got) == len(set(got))
    assert set(got) == matching_ids(emu, query)
    assert len(pages) > 1  # twarc followed next_token
    endpoint = "all" if archive else "recent"
    assert all(f"/2/tweets/search/{endpoint}?" in p["__twarc"]["url"] for p in pages)
    # twarc asks for its default expansions: the includes came back with the pages
    assert all(p["includes"]["users"] for p in pages)


@pytest.mark.parametrize("granularity", ["day", "hour"])
def test_counts(emu: Emulator, tmp_path: Path, granularity: str) -> None:
    query = "brexit OR #kpop OR reliance"
    out = tmp_path / "counts.jsonl"
    twarc2(emu, tmp_path, "counts", "--granularity", granularity, "--hide-progress", query,
           str(out))
    pages = lines(out)
    assert sum(p["meta"]["total_tweet_count"] for p in pages) == len(matching_ids(emu, query))
    buckets = sorted((b["start"], b["end"]) for p in pages for b in p["data"])
    assert all(a[1] == b[0] for a, b in itertools.pairwise(buckets))


def test_counts_archive_window(emu: Emulator, tmp_path: Path) -> None:
    query = "brexit OR #kpop OR reliance"
    start, end = "2021-09-01T00:00:00", "2021-10-01T00:00:00"
    out = tmp_path / "counts.csv"
    twarc2(emu, tmp_path, "counts", "--archive", "--granularity", "day", "--csv",
           "--start-time", start, "--end-time", end, "--hide-progress", query, str(out))
    rows = out.read_text().splitlines()
    assert rows[0] == "start,end,day_count"
    assert len(rows) == 1 + 30
    assert rows[1].startswith("2021-09-01T00:00:00.000Z,2021-09-02T00:00:00.000Z,")
    total = sum(int(r.rsplit(",", 1)[1]) for r in rows[1:])
    assert total == len(matching_ids(emu, query, start, end)) > 0


def test_stream_rules_and_stream(tmp_path: Path) -> None:
    with make(data_files=(DATA / "streaming_output_with_error.jsonl",)) as emu:
        twarc2(emu, tmp_path, "stream-rules", "add", "--tag", "dogs", "dogs")
        twarc2(emu, tmp_path, "stream-rules", "add", "cats")
        rules = {r.value: r for r in emu.state.rules.snapshot()}
        assert set(rules) == {"dogs", "cats"} and rules["dogs"].tag == "dogs"
        listed = twarc2(emu, tmp_path, "stream-rules", "list", "--display-ids")
        assert f"dogs (tag: dogs) (id: {rules['dogs'].id})" in listed
        assert f"cats (id: {rules['cats'].id})" in listed
        twarc2(emu, tmp_path, "stream-rules", "delete", "cats")
        assert [r.value for r in emu.state.rules.snapshot()] == ["dogs"]

        out = tmp_path / "stream.jsonl"
        twarc2(emu, tmp_path, "stream", "--limit", "4", str(out), timeout=60)
        # a line counts as served once written: the client may read it first
        stats = emu.stream_stats("stream_search")
        wait_until(lambda: len(stats.served) >= 4, 5, "4 tweets recorded as served")
        served = stats.served
    got = lines(out)
    assert len(got) == 4
    assert [t["data"]["id"] for t in got] == served[:4]
    assert all(t["matching_rules"] == [{"id": rules["dogs"].id, "tag": "dogs"}] for t in got)
    node = parse_query("dogs")
    assert all(node.match(emu.state.store.entries[int(t["data"]["id"])].subject) for t in got)
