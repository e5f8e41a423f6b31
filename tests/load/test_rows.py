import orjson
import pytest

from tweetpipe.collect.records import merge_payload
from tweetpipe.errors import RecordError
from tweetpipe.load.columns import INCLUDED, TWEETS
from tweetpipe.load.rows import Coordinates, decode, delivered_tweet, parse_message

from ..data import payloads

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
