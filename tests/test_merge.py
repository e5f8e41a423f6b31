import pytest

from tweetpipe.collect.records import (
    PROVENANCE_KEY,
    is_errors_record,
    merge_payload,
    payload_tweets,
    split_payload,
)
from tweetpipe.errors import RecordError

from .data import payloads

PROV = {"source": "test", "collected_at": "2026-01-01T00:00:00Z"}


def records(name: str) -> list[dict]:  # type: ignore[type-arg]
    return [r for p in payloads(name) for r in merge_payload(p, provenance=PROV)]


def test_search_page_yields_one_record_per_tweet_with_author() -> None:
    page = payloads("brexit")[0]
    recs = records("brexit")
    assert len(recs) == len(page["data"]) == 100
    first = recs[0]
    assert first["author"]["id"] == first["author_id"]
    assert first[PROVENANCE_KEY] == PROV


def test_stream_line_keeps_matching_rules_and_place_and_media() -> None:
    recs = records("streaming_output_with_error")
    assert len(recs) == 7
    first = recs[0]
    assert first["matching_rules"] == [{"id": 1377649934414049282, "tag": None}]
    assert first["geo"]["place"]["id"] == "a0583a9994e6bf1b"
    assert first["attachments"]["media"][0]["media_key"] == "3_1377650087799754753"
    quoted = first["referenced_tweets"][0]
    assert quoted["type"] == "quoted" and quoted["tweet"]["id"] == "1377640162566496258"
    assert quoted["tweet"]["author"]["id"] == quoted["tweet"]["author_id"]


def test_retweet_reference_and_mention_user() -> None:
    (rec,) = records("mentions_tweet")
    ref = rec["referenced_tweets"][0]
    assert ref["type"] == "retweeted" and ref["tweet"]["id"] == "1589671906718134272"
    mention = rec["entities"]["mentions"][0]
    assert mention["user"]["username"].lower() == "s3nt1n3l17"


def test_edited_tweet_carries_its_earlier_version() -> None:
    (rec,) = records("edited")
    assert [v["id"] for v in rec["edit_versions"]] == ["1576994746135764992"]


def test_unresolvable_reference_is_kept_as_delivered() -> None:
    page = {"data": [{"id": "1", "text": "x", "author_id": "9",
                      "referenced_tweets": [{"type": "quoted", "id": "404"}]}],
            "includes": {"users": []},
            "errors": [{"resource_id": "404", "title": "Not Found Error"},
                       {"resource_id": "777", "title": "unrelated"}]}
    (rec,) = merge_payload(page, provenance=PROV)
    assert rec["referenced_tweets"] == [{"type": "quoted", "id": "404"}]
    assert "author" not in rec
    assert rec["errors"] == [{"resource_id": "404", "title": "Not Found Error"}]


def test_input_is_not_mutated() -> None:
    page = payloads("media_tweet")[0]
    before = repr(page)
    list(merge_payload(page, provenance=PROV))
    assert repr(page) == before


def test_error_only_payload_has_no_tweets() -> None:
    assert payload_tweets({"errors": [{"title": "operational-disconnect"}]}) == []


@pytest.mark.parametrize("payload", [[1, 2], {"data": [{"text": "no id"}]}, {"data": "x"}])
def test_not_a_payload(payload: object) -> None:
    with pytest.raises(RecordError):
        payload_tweets(payload)


def test_a_suspended_users_error_is_attached_to_the_tweet_mentioning_them() -> None:
    split = split_payload(payloads("2sets")[0], provenance=PROV)  # #kpop, one partial error
    (error,) = payloads("2sets")[0]["errors"]
    assert error["detail"] == "User has been suspended: [leeseunggi]."
    claimed = [r for r in split.tweets if r.get("errors")]
    assert [r["id"] for r in claimed] == ["1440716248904450056"]
    assert claimed[0]["errors"] == [error] and split.errors is None


def test_errors_naming_no_tweet_travel_as_one_errors_record() -> None:
    page = payloads("withheld")[4]  # three suspended users no tweet of the page mentions
    split = split_payload(page, provenance=PROV)
    assert not any(r.get("errors") for r in split.tweets)
    assert split.errors == {"errors": page["errors"],
                            PROVENANCE_KEY: {**PROV, "kind": "api_errors"}}
    assert is_errors_record(split.errors) and not is_errors_record(split.tweets[0])
    assert list(merge_payload(page, provenance=PROV)) == split.tweets
    only_errors = split_payload({"errors": page["errors"]}, provenance=PROV)
    assert only_errors.tweets == [] and only_errors.errors == split.errors


@pytest.mark.parametrize(("error", "claimed"), [
    ({"resource_type": "media", "value": "3_1611076914248286208"}, True),
    ({"resource_type": "user", "value": "TRADING22971312"}, True),  # the author, any case
    ({"resource_type": "user", "resource_id": "1291963157271863297"}, True),  # the author's id
    ({"resource_type": "tweet", "value": "1291963157271863297"}, False),  # an id of a user
    ({"resource_type": "poll", "value": "3_1611076914248286208"}, False),  # a media key
    ({"resource_id": "1611077073803841538"}, True),  # no type: any part
    ({"resource_type": "place", "value": "nowhere"}, False),
])
def test_errors_are_matched_by_the_kind_and_value_they_name(
        error: dict[str, str], claimed: bool) -> None:
    page = {**payloads("cashtags")[0], "errors": [error]}
    split = split_payload(page, provenance=PROV)
    assert (split.tweets[0].get("errors") == [error]) is claimed
    assert (split.errors is None) is claimed
