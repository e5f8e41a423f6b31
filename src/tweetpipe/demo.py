"""`tweetpipe demo`: the whole pipeline on embedded defaults, end to end, on real services."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import orjson
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from tweetpipe import db, progress
from tweetpipe.api import Pipeline
from tweetpipe.cli import render
from tweetpipe.collect.stats import CollectStats
from tweetpipe.errors import ServiceError
from tweetpipe.load.loader import LoadStats
from tweetpipe.settings import Settings
from tweetpipe.transform import trends

#: the real API's default demo query when TWITTER_BEARER_TOKEN is set.
DEFAULT_QUERY = "python lang:en -is:retweet"
DEMO_TOKEN = "demo-emulator-token"


def sample_files() -> list[Path]:
    """The bundled sample: real X API v2 responses (search pages and stream lines)."""
    folder = resources.files("tweetpipe.data")
    return sorted(Path(str(f)) for f in folder.iterdir() if f.name.endswith(".jsonl"))


def distinct_ids(files: list[Path]) -> set[str]:
    """Distinct tweet ids in the `data` of the files' parseable lines."""
    ids: set[str] = set()
    for path in files:
        for line in path.read_bytes().splitlines():
            try:
                payload = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            data = payload.get("data") if isinstance(payload, dict) else None
            tweets = data if isinstance(data, list) else [data] if data else []
            ids.update(str(t["id"]) for t in tweets if isinstance(t, dict) and "id" in t)
    return ids


def collect_step(settings: Settings, console: Console, *, query: str | None,
                 limit: int) -> set[str]:
    """Search X for `query` (with a bearer token), else the emulator serving the sample."""
    stats = CollectStats()
    with contextlib.ExitStack() as stack:
        if settings.bearer_token is not None:
            api, query, most, archive = settings, query or DEFAULT_QUERY, limit, False
            console.print(f"searching X ({settings.x_api_base_url}) for {query!r}")
        else:
            url, match_all = stack.enter_context(emulator_process(settings))
            api = settings.model_copy(update={"x_api_base_url": url,
                                              "bearer_token": SecretStr(DEMO_TOKEN)})
            query, most, archive = query or match_all, None, True
            console.print(f"no TWITTER_BEARER_TOKEN: searching the full archive of the local "
                          f"X API emulator ({url}), which serves the bundled sample")
        with progress.show(console, stats):
            Pipeline(api).collect_search(query, archive=archive, limit=most, stats=stats)
    return stats.ids or set()


@contextlib.contextmanager
def emulator_process(settings: Settings) -> Iterator[tuple[str, str]]:
    """The X API emulator (a separate package) as a subprocess on a free port: (url, query)."""
    log = settings.log_dir / "demo-emulator.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TWEETPIPE_EMULATOR_TOKEN": DEMO_TOKEN}
    with log.open("ab") as errors:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tweetpipe_emulator", "--port", "0", "--ready-json"],
            stdout=subprocess.PIPE, stderr=errors, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise ServiceError(f"the X API emulator did not start; see {log}")
        ready = orjson.loads(line)
        yield str(ready["url"]), str(ready["match_all_query"])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(settings: Settings, console: Console, *, query: str | None = None,
        limit: int = 500) -> None:
    pipeline = Pipeline(settings)
    with progress.show(console, progress.Phase("starting Kafka and PostgreSQL…"), final=False):
        statuses = pipeline.services_up()
    render.print_services(statuses)
    pipeline.migrate()
    collected = collect_step(settings, console, query=query, limit=limit)
    with progress.show(console, LoadStats()) as stats:
        pipeline.load(idle_seconds=2.0, stats=stats)
    spark = progress.Phase("transforming tweet_merge → tweet_transformed with Spark…")
    with progress.show(console, spark, final=False):
        result = pipeline.transform()
    console.print(f"transform: {render.rows_read(result.read, full=False)}, "
                  f"{result.upserted} upserted")
    summarize(settings, expected=len(collected))


def summarize(settings: Settings, *, expected: int) -> None:
    counts = db.table_counts(settings, ["tweet_merge", "tweet_transformed", "dead_letters"])
    out = render.out
    out.print(f"\ncollected: {expected} distinct tweet ids")
    for name, count in counts.items():
        mark = "" if name == "dead_letters" else (" ✓" if count == expected else " ✗")
        out.print(f"  {name:<18} {count:>6} rows{mark}")
    with db.connect(settings, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT tweet_id, lang, sentiment_label, round(sentiment::numeric, 3), clean_text"
            " FROM tweet_transformed ORDER BY (sentiment IS NULL), abs(sentiment) DESC,"
            " tweet_id LIMIT 5").fetchall()
        top = trends.top_hashtags(conn, limit=5)
    table = Table(title="tweet_transformed", expand=True)  # one line a tweet, at any width
    for name in ("tweet_id", "lang", "sentiment", "score"):
        table.add_column(name, no_wrap=True)
    table.add_column("clean_text", no_wrap=True, overflow="ellipsis", ratio=1)
    for tweet_id, lang, label, score, text in rows:
        table.add_row(str(tweet_id), str(lang), str(label), str(score), (text or "")[:70])
    out.print(table)
    if top:
        out.print("top hashtags: " + ", ".join(f"#{tag} ({n})" for tag, n in top))
    out.print("\nServices keep running: explore with `tweetpipe status`; stop them with "
              "`tweetpipe services down`.")
