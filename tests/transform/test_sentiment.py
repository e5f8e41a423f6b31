"""Sentiment: VADER for English tweets only, on text with URLs removed and case intact."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from tweetpipe.transform import sentiment
from tweetpipe.transform.enrich import enrich

POSITIVE = "1377650093109743620"  # "Well done … Brilliant night work. … 😊💙👍👏👏…"
NEGATIVE = "1440716745577140229"  # "… those imbeciles … donkeys suffer …"
CAPS = "1440716040573386762"  # "RT @EVERGLOW_twt: SPICY🔥 #spicychallenge … ▶️ https://t.co/…"
GERMAN = "1440714938054418436"
KOREAN = "1440717136192626696"
SPANISH = "1440714751642800139"
UND = "1257786232978968578"
QST = "1576994789110992896"  # edited.jsonl, "hey :)" with lang qst

pytestmark = pytest.mark.spark
Samples = dict[str, tuple[dict[str, Any], dict[str, Any]]]


@pytest.fixture(scope="module")
def scored(merge_df: Callable[..., DataFrame]) -> dict[str, tuple[float | None, str]]:
    df = merge_df(POSITIVE, NEGATIVE, CAPS, GERMAN, KOREAN, SPANISH, UND, QST)
    no_lang = merge_df(POSITIVE).withColumn("tweet_id", F.lit(1)).withColumn(
        "lang", F.lit(None).cast("string"))
    rows = enrich(df.unionByName(no_lang)).collect()
    return {str(r["tweet_id"]): (r["sentiment"], r["sentiment_label"]) for r in rows}


def test_clearly_positive_and_negative_english(scored: dict[str, tuple[float | None, str]]) -> None:
    assert scored[POSITIVE][1] == "positive"
    assert scored[POSITIVE][0] == pytest.approx(0.9442)
    assert scored[NEGATIVE][1] == "negative"
    assert scored[NEGATIVE][0] == pytest.approx(-0.877)


@pytest.mark.parametrize("tweet_id", [GERMAN, KOREAN, SPANISH, UND, QST, "1"])
def test_other_languages_are_not_scored(
    scored: dict[str, tuple[float | None, str]], tweet_id: str
) -> None:
    assert scored[tweet_id] == (None, "not_scored")


def test_scored_with_case_and_without_url_or_retweet_prefix(
    scored: dict[str, tuple[float | None, str]], samples: Samples
) -> None:
    text = samples[CAPS][0]["text"]
    body = text.removeprefix("RT @EVERGLOW_twt: ").replace("https://t.co/kTCrC3Vmq6", "")
    vader = sentiment.analyzer()
    assert scored[CAPS][1] == "negative"
    assert scored[CAPS][0] == pytest.approx(vader.polarity_scores(body)["compound"])
    # Case matters to VADER ("SPICY"): the score is not the one of the case-folded text.
    assert scored[CAPS][0] != pytest.approx(vader.polarity_scores(body.lower())["compound"])


def test_label_thresholds(spark: SparkSession) -> None:
    scores = [0.05, 0.0499, 0.0, -0.0499, -0.05, 0.9, -0.9, None]
    df = spark.createDataFrame([(s,) for s in scores], "score double")
    labels = [r[0] for r in df.select(sentiment.sentiment_label(F.col("score"))).collect()]
    assert labels == [
        "positive", "neutral", "neutral", "neutral", "negative", "positive", "negative",
        "not_scored",
    ]


def test_analyzer_is_created_once() -> None:
    assert sentiment.analyzer() is sentiment.analyzer()


def test_compound_score_unescapes_and_skips_other_languages() -> None:
    assert sentiment.compound_score("Love this &amp; that", "de") is None
    assert sentiment.compound_score(None, "en") is None
    assert sentiment.compound_score("I love it &lt;3", "en") == pytest.approx(
        sentiment.analyzer().polarity_scores("I love it <3")["compound"])
