"""The streaming job's input: Kafka messages -> the columns `enrich` reads, by the loader's own
parsing (no Spark needed): the same analysed text as the batch job, API errors skipped."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pandas as pd

from tweetpipe.collect.records import split_payload
from tweetpipe.load.columns import TRANSFORM_INPUT
from tweetpipe.transform.streaming_job import parse_frames

from ..data import payloads

KPOP_RETWEET = 1440717136192626696  # "RT @itsLIVEofficial: …", cut by X


def test_messages_become_the_transforms_input_and_errors_are_skipped() -> None:
    page = payloads("withheld")[4]  # 112 tweets, 3 errors concerning none of them
    page["data"] = page["data"][:3]
    kpop = split_payload(payloads("2sets")[0], provenance={}).tweets
    split = split_payload(page, provenance={"served_at": "2021-06-14T11:15:14Z"})
    assert split.errors is not None
    values = [orjson.dumps(r) for r in [*split.tweets, split.errors, *kpop]]
    now = datetime.now(UTC)
    frame = pd.DataFrame({"value": values, "topic": "t", "partition": 0,
                          "offset": range(len(values)), "kafka_ts": now})
    (out,) = parse_frames([frame])
    assert list(out.columns) == [*TRANSFORM_INPUT, "kafka_ts"]
    assert len(out) == 103  # the errors message is no tweet
    retweet = out[out.tweet_id == KPOP_RETWEET].iloc[0]
    original = next(r for r in kpop if int(r["id"]) == KPOP_RETWEET)["referenced_tweets"][0]
    assert retweet.analysed_text == "retweeted_original"
    assert retweet.analysis_text == original["tweet"]["text"] != retweet.text
    assert list(retweet.analysis_hashtags) == [
        h["tag"] for h in original["tweet"]["entities"]["hashtags"]]
