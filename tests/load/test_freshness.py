"""Newest copy wins by when X served it, on real Kafka and PostgreSQL: two recordings of the
same real tweets (the bundled ones, and a copy X "served" a day later with other metrics,
follower counts, poll votes and place names), replayed in either order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from psycopg import sql

from tweetpipe import db
from tweetpipe.load.columns import INCLUDED, TABLES, TWEETS
from tweetpipe.settings import Settings

from ..data import payloads, write_jsonl
from ..pipeline import load_all, query, replay

pytestmark = pytest.mark.integration
FILES = ("brexit", "geo_tweets")  # search page (media, poll) and lookups with places
LOADED = [t for t in TABLES if t.name != "api_errors"]


def bumped(value: Any) -> Any:
    """`value` as X would serve it a day later: every count +1000, other place names."""
    if isinstance(value, list):
        return [bumped(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: bumped(v) for k, v in value.items()}
    if isinstance(value.get("public_metrics"), dict):
        out["public_metrics"] = {k: n + 1000 for k, n in value["public_metrics"].items()}
    if isinstance(value.get("votes"), int):
        out["votes"] = value["votes"] + 1000
    if "place_type" in value:
        out["full_name"] = f"{value['full_name']} (renamed)"
    return out


def recordings(folder: Path) -> tuple[list[Path], list[Path]]:
    """(older, newer): the bundled files, and the same a day later."""
    older = [write_jsonl(folder / f"{name}.jsonl", payloads(name)) for name in FILES]
    newer = [write_jsonl(folder / f"{name}-newer.jsonl", [_day_later(p) for p in payloads(name)])
             for name in FILES]
    return older, newer


def _day_later(page: dict[str, Any]) -> dict[str, Any]:
    later = bumped(page)
    day = page["__twarc"]["retrieved_at"][:10]
    later["__twarc"]["retrieved_at"] = f"{day[:8]}{int(day[8:]) + 1:02d}T00:00:00+00:00"
    return later


def snapshot(settings: Settings) -> dict[str, list[Any]]:
    """Every loaded table as stored, with each row's version (xmin: changes on any update)."""
    with db.connect(settings, autocommit=True) as conn:
        return {t.name: conn.execute(sql.SQL(
            "SELECT xmin::text, to_jsonb(x) - 'loaded_at' FROM {} x ORDER BY 2"
        ).format(sql.Identifier(t.name))).fetchall() for t in LOADED}


def test_an_older_recording_after_a_newer_one_changes_no_row(
        pipeline: Settings, tmp_path: Path) -> None:
    older, newer = recordings(tmp_path)
    replay(pipeline, newer)
    load_all(pipeline)
    before = snapshot(pipeline)
    assert all(before.values())
    replay(pipeline, older)
    stats = load_all(pipeline)
    assert (stats.rows, stats.stored) == (102, 0)
    assert snapshot(pipeline) == before


def test_a_newer_recording_after_an_older_one_wins(pipeline: Settings, tmp_path: Path) -> None:
    older, newer = recordings(tmp_path)
    replay(pipeline, older)
    load_all(pipeline)
    old = expected_values(pipeline)
    replay(pipeline, newer)
    assert load_all(pipeline).stored == 102
    new = expected_values(pipeline)
    assert new["likes"] == old["likes"] + 1000 * 102
    assert new["followers"] == old["followers"] + 1000 * new["authors"]
    assert new["included likes"] == old["included likes"] + 1000 * new["included"]
    assert new["votes"] == old["votes"] + 3000  # one poll, three options
    assert new["places"] == [f"{name} (renamed)" for name in old["places"]]
    assert new["served"] == ["2021-09-23", "2022-03-17"] and old["served"] == [
        "2021-09-22", "2022-03-16"]


def expected_values(settings: Settings) -> dict[str, Any]:
    def one(text: str) -> Any:
        return query(settings, text)[0][0]

    assert TWEETS.newest == "served_at" and INCLUDED.newest == "seen_at"
    return {
        "likes": one("SELECT sum(like_count) FROM tweet_merge"),
        "followers": one("SELECT sum(followers_count) FROM tweet_author"),
        "authors": one("SELECT count(followers_count) FROM tweet_author"),
        "included likes": one("SELECT sum((raw #>> '{public_metrics,like_count}')::int)"
                              " FROM tweet_included"),
        "included": one("SELECT count(raw #>> '{public_metrics,like_count}')"
                        " FROM tweet_included"),
        "votes": one("SELECT sum((o ->> 'votes')::int) FROM tweet_poll,"
                     " jsonb_array_elements(options) o"),
        "places": [r[0] for r in query(settings, "SELECT full_name FROM tweet_place"
                                                 " ORDER BY place_id")],
        "served": [r[0] for r in query(settings, "SELECT DISTINCT (served_at AT TIME ZONE"
                                                 " 'UTC')::date::text FROM tweet_merge"
                                                 " ORDER BY 1")],
    }
