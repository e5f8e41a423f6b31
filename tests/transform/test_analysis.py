"""What tweet_transformed analyses, end to end on real Kafka, PostgreSQL and Spark, on the real
search pages we ship: a retweet's original's full text and entities (X cuts the retweet's own
text), a long post's note, a retweet's cut text when X did not include its original."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tweetpipe.settings import Settings
from tweetpipe.transform import batch_job

from ..data import LONG_POST_ID, page_with_long_post, payloads, write_jsonl
from ..pipeline import load_all, query, replay

pytestmark = [pytest.mark.integration, pytest.mark.spark]
NOTE_HASHTAGS = ["labourshortages", "brexit", "BrexitChaos"]


def search_pages() -> list[dict[str, Any]]:
    """#kpop and #brexit (with a long post and a retweet of it), and a full-archive page
    whose includes lack 38 of its 49 retweets' originals."""
    return [payloads("2sets")[0], page_with_long_post()[0], payloads("withheld")[4]]


def analysed_hashtags(page: dict[str, Any]) -> dict[int, tuple[str, list[str]]]:
    """Per tweet of a page, straight from X's JSON: which text is analysed and its hashtags."""
    originals = {t["id"]: t for t in page["includes"].get("tweets", [])}

    def tags(tweet: dict[str, Any]) -> list[str]:
        entities = tweet["note_tweet"].get("entities", {}) if "note_tweet" in tweet else (
            tweet.get("entities", {}))
        return [h["tag"] for h in entities.get("hashtags", [])]

    found = {}
    for tweet in page["data"]:
        retweeted = [r["id"] for r in tweet.get("referenced_tweets", [])
                     if r["type"] == "retweeted"]
        original = originals.get(retweeted[0]) if retweeted else None
        kind = "own" if not retweeted else (
            "retweeted_original" if original else "truncated_retweet")
        found[int(tweet["id"])] = (kind, tags(original or tweet))
    return found


@pytest.fixture
def transformed(pipeline: Settings, spark: Any, tmp_path: Path) -> Settings:
    replay(pipeline, [write_jsonl(tmp_path / "pages.jsonl", search_pages())])
    load_all(pipeline)
    assert batch_job.run_batch(pipeline, spark=spark).upserted == 312
    return pipeline


def test_every_retweet_is_analysed_on_its_original(transformed: Settings) -> None:
    expected = {k: v for page in search_pages() for k, v in analysed_hashtags(page).items()}
    rows = query(transformed, "SELECT t.tweet_id, t.analysed_text, t.hashtags, t.text = m.text,"
                              " t.author_id = m.author_id FROM tweet_transformed t"
                              " JOIN tweet_merge m USING (tweet_id)")
    assert {r[0]: (r[1], r[2]) for r in rows} == expected
    assert all(r[3] and r[4] for r in rows)  # each row keeps the tweet's own text and author
    kinds = [kind for kind, _ in expected.values()]
    assert (kinds.count("retweeted_original"), kinds.count("truncated_retweet")) == (156, 38)


@pytest.mark.parametrize(("tag", "own_text", "analysed"), [("kpop", 94, 100),
                                                           ("brexit", 59, 100)])
def test_the_searched_hashtags_trend_counts_every_retweet_of_a_tweet_carrying_it(
        transformed: Settings, tag: str, own_text: int, analysed: int) -> None:
    carrying = {k for page in search_pages() for k, (_, tags) in analysed_hashtags(page).items()
                if tag in map(str.lower, tags)}
    own = query(transformed, "SELECT count(*) FROM tweet_merge WHERE EXISTS (SELECT FROM"
                             " unnest(hashtags) h WHERE lower(h) = %s)", tag)
    assert (own[0][0], len(carrying)) == (own_text, analysed)  # X's cut texts lose the tag
    trend = query(transformed, "SELECT sum(tweets) FROM trend_hashtag WHERE hashtag = %s", tag)
    assert trend == [(analysed,)]


def test_a_long_posts_hashtags_are_in_both_tables(transformed: Settings) -> None:
    rows = query(transformed, "SELECT m.hashtags, t.hashtags, t.clean_text, m.text"
                              " FROM tweet_merge m JOIN tweet_transformed t USING (tweet_id)"
                              " WHERE tweet_id = %s", int(LONG_POST_ID))
    ((merged, transformed_tags, clean_text, text),) = rows
    assert merged == transformed_tags == NOTE_HASHTAGS
    assert text.endswith("#labourshortages #brexit #BrexitChaos")
    assert clean_text.endswith("#labourshortages #brexit #brexitchaos")
