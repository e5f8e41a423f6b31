"""`tweetpipe demo`: the whole pipeline on embedded defaults, end to end, on real services."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

from tweetpipe import collect, db, report, services, stream
from tweetpipe.load import LoadOptions, load
from tweetpipe.settings import Settings
from tweetpipe.transform import job, trends


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


def run(settings: Settings, console: Console) -> None:
    with console.status("starting Kafka and PostgreSQL…"):
        statuses = services.up(settings)
    report.print_services(statuses)
    db.migrate(settings)
    files = sample_files()
    stream.ensure_topic(settings)
    with console.status("collecting the bundled sample into Kafka…"), \
            stream.TweetProducer(settings) as producer:
        collected = collect.replay(files, producer, source="demo")
    report.print_collect(collected, settings.kafka_topic)
    with console.status("loading Kafka → tweet_merge…"):
        stats = load(settings, LoadOptions(idle_seconds=2.0))
    console.print(report.load_line(stats))
    with console.status("transforming tweet_merge → tweet_transformed with Spark…"):
        result = job.run_batch(settings)
    console.print(f"transform: {result.read} new rows read, {result.upserted} upserted")
    summarize(settings, expected=len(distinct_ids(files)))


def summarize(settings: Settings, *, expected: int) -> None:
    counts = db.table_counts(settings, ["tweet_merge", "tweet_transformed", "dead_letters"])
    out = report.out
    out.print(f"\nsample: {expected} distinct tweet ids in `data`")
    for name, count in counts.items():
        mark = "" if name == "dead_letters" else (" ✓" if count == expected else " ✗")
        out.print(f"  {name:<18} {count:>6} rows{mark}")
    with db.connect(settings, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT tweet_id, lang, sentiment_label, round(sentiment::numeric, 3), clean_text"
            " FROM tweet_transformed ORDER BY (sentiment IS NULL), abs(sentiment) DESC,"
            " tweet_id LIMIT 5").fetchall()
        top = trends.top_hashtags(conn, limit=5)
    table = Table("tweet_id", "lang", "sentiment", "score", "clean_text", title="tweet_transformed")
    for tweet_id, lang, label, score, text in rows:
        table.add_row(str(tweet_id), str(lang), str(label), str(score), (text or "")[:70])
    out.print(table)
    if top:
        out.print("top hashtags: " + ", ".join(f"#{tag} ({n})" for tag, n in top))
    out.print("\nServices keep running: explore with `tweetpipe status`; stop them with "
              "`tweetpipe services down`.")
