"""The loader on real Kafka and PostgreSQL: exact counts, dead letters, edits, freshness."""

from __future__ import annotations

import orjson
import pytest

from tweetpipe.settings import Settings

from .data import all_files, sample
from .pipeline import (
    count,
    load_all,
    produce_raw,
    query,
    replay,
    stored_offsets_equal_log_end,
)

pytestmark = pytest.mark.integration


def test_replay_and_load_every_sample_exactly_once(pipeline: Settings) -> None:
    replay(pipeline, all_files())
    stats = load_all(pipeline)
    # 531 tweets, the truncated line, and one message of the 3 errors naming no tweet of their
    # page (withheld.jsonl:5): neither a row of tweet_merge nor a dead letter
    assert (stats.messages, stats.rows, stats.dead_letters, stats.api_errors) == (533, 531, 1, 3)
    assert count(pipeline, "tweet_merge") == 431
    assert count(pipeline, "dead_letters") == 1
    assert count(pipeline, "api_errors") == 3
    assert stored_offsets_equal_log_end(pipeline)
    assert stats.stored >= 431 and stats.stored + stats.unchanged == 531
    replay(pipeline, all_files())  # the same files again: no new rows
    again = load_all(pipeline)
    assert (again.messages, again.rows, again.dead_letters) == (533, 531, 1)
    assert (again.stored, again.unchanged) == (0, 531), "nothing new was written"
    assert count(pipeline, "tweet_merge") == 431
    assert count(pipeline, "dead_letters") == 2  # the truncated line, once per replay
    assert count(pipeline, "api_errors") == 3  # the same errors served at the same time
    assert stored_offsets_equal_log_end(pipeline)


@pytest.mark.parametrize("name", [f.stem for f in all_files()])
def test_each_file_gives_exactly_its_distinct_ids(pipeline: Settings, name: str) -> None:
    from tweetpipe.demo import distinct_ids

    expected = distinct_ids([sample(name)])
    replay(pipeline, [sample(name)])
    load_all(pipeline, idle_seconds=1.0)
    ids = {str(r[0]) for r in query(pipeline, "SELECT tweet_id FROM tweet_merge")}
    assert ids == expected


def test_bad_records_go_to_dead_letters_and_good_ones_load(pipeline: Settings) -> None:
    good = {"id": "100", "text": "fine", "author_id": "7"}
    produce_raw(pipeline, [
        ("100", orjson.dumps(good)),
        ("101", b'{"id": "101", "text": "nul\\u0000inside"}'),
        ("102", b'{"id": "102", "text": "lone \\ud800 surrogate"}'),
        ("103", b'{"id": "103", "text": "trunc'),
        ("104", b"[1, 2, 3]"),
        ("105", b'{"id": "105", "text": "' + b"x" * (600 * 1024) + b'"}'),
        ("106", b'{"id": "106", "text": "bad utf8 \xff\xfe"}'),
        ("107", b'{"id": "99999999999999999999999", "text": "id beyond bigint"}'),
    ])
    stats = load_all(pipeline)
    assert (stats.rows, stats.dead_letters, stats.repaired) == (4, 4, 3)
    texts = dict(query(pipeline, "SELECT tweet_id, text FROM tweet_merge"))
    assert texts == {100: "fine", 101: "nulinside", 102: "lone \ufffd surrogate",
                     106: "bad utf8 \ufffd\ufffd"}
    reasons = sorted(r[0] for r in query(pipeline, "SELECT reason FROM dead_letters"))
    assert reasons == ["not a tweet", "oversize record", "rejected by PostgreSQL",
                       "truncated or malformed JSON"]
    raw = query(pipeline, "SELECT raw FROM dead_letters WHERE reason LIKE 'truncated%%'")
    assert bytes(raw[0][0]) == b'{"id": "103", "text": "trunc'
    assert stored_offsets_equal_log_end(pipeline)


def test_first_record_lacking_a_field_does_not_null_it_for_others(pipeline: Settings) -> None:
    produce_raw(pipeline, [
        ("1", orjson.dumps({"id": "1", "text": "no lang"})),
        ("2", orjson.dumps({"id": "2", "text": "with lang", "lang": "fr", "source": "web"})),
    ])
    load_all(pipeline)
    rows = dict((r[0], (r[1], r[2])) for r in
                query(pipeline, "SELECT tweet_id, lang, source FROM tweet_merge"))
    assert rows == {1: (None, None), 2: ("fr", "web")}


def test_newer_copy_updates_metrics_and_older_never_overwrites(pipeline: Settings) -> None:
    def copy(at: str, likes: int) -> bytes:
        return orjson.dumps({"id": "5", "text": "t", "public_metrics": {"like_count": likes},
                             "__tweetpipe": {"collected_at": at}})

    produce_raw(pipeline, [("5", copy("2026-01-01T00:00:02Z", 20)),
                           ("5", copy("2026-01-01T00:00:01Z", 10))])  # same batch
    load_all(pipeline)
    produce_raw(pipeline, [("5", copy("2026-01-01T00:00:00Z", 1))])  # later batch, older copy
    load_all(pipeline)
    assert query(pipeline, "SELECT like_count FROM tweet_merge") == [(20,)]
    produce_raw(pipeline, [("5", copy("2026-01-01T00:00:03Z", 30))])
    load_all(pipeline)
    assert query(pipeline, "SELECT like_count FROM tweet_merge") == [(30,)]


def test_edited_tweet_is_one_current_row_with_earlier_version_kept(pipeline: Settings) -> None:
    replay(pipeline, [sample("edited"), sample("quoted_edit")])
    earlier = {"id": "1576994746135764992", "text": "i miss y'all",
               "edit_history_tweet_ids": ["1576994746135764992"],
               "__tweetpipe": {"collected_at": "2022-10-03T18:00:00Z"}}
    produce_raw(pipeline, [(earlier["id"], orjson.dumps(earlier))])  # collected before the edit
    load_all(pipeline)
    versions = query(pipeline, "SELECT tweet_id, is_current FROM tweet_merge"
                               " WHERE edit_root_id = 1576994746135764992 ORDER BY tweet_id")
    assert versions == [(1576994746135764992, False), (1576994789110992896, True)]
    kept = query(pipeline, "SELECT edit_root_id FROM tweet_included"
                           " WHERE tweet_id = 1576994746135764992")
    assert kept == [(1576994746135764992,)]
