from collections import Counter

import orjson
import pytest

from tweetpipe.collect.records import merge_payload, split_payload
from tweetpipe.errors import RecordError
from tweetpipe.load.columns import API_ERRORS, AUTHORS, INCLUDED, TWEETS
from tweetpipe.load.rows import (
    _ITEM_ROWS,
    Coordinates,
    decode,
    delivered_tweet,
    item_row,
    parse_message,
)
from tweetpipe.load.sources import ItemSource

from ..data import LONG_POST_ID, page_with_long_post, payloads

WHERE = Coordinates("t", 0, 5)
MAX = 1024 * 1024


def row(parsed_tweet: tuple, column: str) -> object:  # type: ignore[type-arg]
    return parsed_tweet[TWEETS.index(column)]


def test_typed_columns_of_a_real_tweet() -> None:
    (record,) = merge_payload(payloads("cashtags")[0], provenance={"source": "t"})
    parsed = parse_message(orjson.dumps(record), WHERE, max_bytes=MAX)
    tweet = parsed.tweet
    assert row(tweet, "tweet_id") == 1611077073803841538
    assert row(tweet, "cashtags") == ["AMD", "BTC", "TWTR", "BA", "doge", "baba", "spy", "SPX",
                                      "NIO", "ETC", "META"]
    assert row(tweet, "hashtags") == ["business", "NFT", "StockMarket", "option"]
    assert row(tweet, "media_keys") == ["3_1611076914248286208"]
    assert row(tweet, "kafka_offset") == 5
    assert parsed.authors and parsed.media


def test_raw_is_the_tweet_as_delivered() -> None:
    page = payloads("streaming_output_with_error")[0]
    (record,) = merge_payload(page, provenance={"source": "t"})
    assert delivered_tweet(record) == page["data"]


def test_edit_versions_become_included_rows() -> None:
    (record,) = merge_payload(payloads("edited")[0], provenance={"source": "t"})
    parsed = parse_message(orjson.dumps(record), WHERE, max_bytes=MAX)
    assert row(parsed.tweet, "edit_root_id") == 1576994746135764992
    ids = {r[0] for r in parsed.included}
    assert 1576994746135764992 in ids
    root = INCLUDED.index("edit_root_id")
    assert {r[root] for r in parsed.included} == {1576994746135764992}


def test_nul_is_stripped_and_counted_as_repaired() -> None:
    obj, repaired = decode(b'{"id": "1", "text": "a\\u0000b"}')
    assert obj["text"] == "ab" and repaired


def test_lone_surrogate_is_replaced() -> None:
    obj, repaired = decode(b'{"id": "1", "text": "x\\ud800y"}')
    assert obj["text"] == "x\ufffdy" and repaired


def test_invalid_utf8_is_replaced() -> None:
    obj, repaired = decode(b'{"id": "1", "text": "caf\xe9"}')
    assert obj["text"] == "caf\ufffd" and repaired


def test_clean_input_is_not_marked_repaired() -> None:
    obj, repaired = decode(b'{"id": "1", "text": "\\ud83d\\udc0d ok"}')
    assert obj["text"] == "\U0001f40d ok" and not repaired


@pytest.mark.parametrize(("value", "reason"), [
    (b'{"id": "1", "text": "trunc', "truncated or malformed JSON"),
    (b"42", "not a tweet"),
    (b'{"hello": "world"}', "not a tweet"),
    (b"", "empty message"),
])
def test_unusable_records(value: bytes, reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        parse_message(value, WHERE, max_bytes=MAX)


def test_oversize() -> None:
    with pytest.raises(RecordError, match="oversize"):
        parse_message(b'{"id":"1","text":"' + b"x" * 200 + b'"}', WHERE, max_bytes=100)


def parsed_page(page: dict, **provenance: str) -> dict[str, object]:  # type: ignore[type-arg]
    prov = {"source": "t", **provenance}
    return {r["id"]: parse_message(orjson.dumps(r), WHERE, max_bytes=MAX)
            for r in merge_payload(page, provenance=prov)}


def test_a_long_post_has_its_note_text_and_entities() -> None:
    page, _ = page_with_long_post()
    post = parsed_page(page)[LONG_POST_ID].tweet
    assert row(post, "text").endswith("#labourshortages #brexit #BrexitChaos")
    assert row(post, "hashtags") == ["labourshortages", "brexit", "BrexitChaos"]
    assert row(post, "mentions") == ["YouTube"] and row(post, "urls") == [
        "https://youtu.be/qJrz3Ambln8"]
    assert row(post, "analysed_text") == "own"
    assert row(post, "analysis_hashtags") == row(post, "hashtags")


def test_a_retweet_is_analysed_on_its_originals_full_text() -> None:
    page, retweet_id = page_with_long_post()
    parsed = parsed_page(page)
    retweet, post = parsed[retweet_id].tweet, parsed[LONG_POST_ID].tweet
    assert row(retweet, "text").startswith("RT @SonofGroucho: ") and row(retweet, "text")[-1] == "…"
    assert row(retweet, "hashtags") == [] and row(retweet, "mentions") == ["SonofGroucho"]
    assert row(retweet, "analysed_text") == "retweeted_original"
    for column in ("text", "hashtags", "mentions", "cashtags", "urls"):
        assert row(retweet, f"analysis_{column}") == row(post, column)
    included = {r[0]: r for r in parsed[retweet_id].included}
    assert included[int(LONG_POST_ID)][INCLUDED.index("text")] == row(post, "text")


def test_a_retweet_without_its_original_is_analysed_on_its_cut_text() -> None:
    page = payloads("withheld")[4]  # 38 of its 49 retweets' originals are not in `includes`
    kinds = Counter(row(p.tweet, "analysed_text") for p in parsed_page(page).values()
                    if "retweeted" in row(p.tweet, "referenced_types"))
    assert kinds == {"truncated_retweet": 38, "retweeted_original": 11}
    page = payloads("withheld")[3]
    page["includes"]["tweets"] = []
    (one,) = [p.tweet for p in parsed_page(page).values()
              if row(p.tweet, "tweet_id") == 1257786232978968578]
    assert row(one, "analysed_text") == "truncated_retweet"
    assert row(one, "analysis_text") == row(one, "text") == "RT @frankgore: #Year16 ✈️✈️✈️"
    assert row(one, "analysis_hashtags") == ["Year16"]


def test_served_time_is_xs_else_the_collection_time() -> None:
    page = payloads("cashtags")[0]
    served = parsed_page(page, collected_at="2026-01-02T00:00:00Z",
                         served_at="2023-01-05T19:10:27+00:00")
    (tweet,) = [p.tweet for p in served.values()]
    assert row(tweet, "served_at") == "2023-01-05T19:10:27+00:00"
    assert row(tweet, "collected_at") == "2026-01-02T00:00:00Z"
    (author_seen,) = {a[-2] for p in served.values() for a in p.authors}
    assert author_seen == "2023-01-05T19:10:27+00:00"
    (unknown,) = [p.tweet for p in parsed_page(page, collected_at="2026-01-02T00:00:00Z",
                                               served_at="yesterday").values()]
    assert row(unknown, "served_at") == "2026-01-02T00:00:00Z"


def test_an_errors_record_becomes_api_error_rows_and_no_tweet() -> None:
    split = split_payload(payloads("withheld")[4], provenance={
        "source": "replay", "origin": "withheld.jsonl:5", "served_at": "2021-06-14T11:15:14Z"})
    assert split.errors is not None
    parsed = parse_message(orjson.dumps(split.errors), WHERE, max_bytes=MAX)
    assert parsed.tweet is None and parsed.where == WHERE
    values = [r[API_ERRORS.index("value")] for r in parsed.api_errors]
    assert values == ["RSS4India", "Anoop455", "2245"]
    first = dict(zip(API_ERRORS.columns, parsed.api_errors[0], strict=True))
    assert first["detail"] == "User has been suspended: [RSS4India]."
    assert (first["origin"], first["served_at"], first["kafka_offset"]) == (
        "withheld.jsonl:5", "2021-06-14T11:15:14Z", 5)
    assert len({r[API_ERRORS.index("error_key")] for r in parsed.api_errors}) == 3
    with pytest.raises(RecordError, match="without errors"):
        parse_message(orjson.dumps({**split.errors, "errors": [1]}), WHERE, max_bytes=MAX)


def test_a_repeated_user_is_built_once_and_seen_anew() -> None:
    """item_row keeps each distinct user's row: the same user seen again gets the same row with
    its own seen_at, exactly what building it anew gives; a changed user is built anew."""
    (record,) = merge_payload(payloads("cashtags")[0], provenance={"source": "t"})
    user = record["author"]
    built, _ = _ITEM_ROWS[AUTHORS.name]
    built.cache_clear()
    first = item_row(AUTHORS, user, "2026-01-01T00:00:00+00:00")
    again = item_row(AUTHORS, user, "2026-01-02T00:00:00+00:00")
    assert built.cache_info().hits == 1
    assert again == AUTHORS.row(ItemSource(user, "2026-01-02T00:00:00+00:00"))
    assert again[AUTHORS.index("seen_at")] == "2026-01-02T00:00:00+00:00"
    assert first[:AUTHORS.index("seen_at")] == again[:AUTHORS.index("seen_at")]
    changed = {**user, "public_metrics": {**user["public_metrics"], "followers_count": 7}}
    assert item_row(AUTHORS, changed, "2026-01-02T00:00:00+00:00")[
        AUTHORS.index("followers_count")] == 7
    assert built.cache_info().misses == 2
