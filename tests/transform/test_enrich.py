"""enrich(): tweet_merge rows built from real sample tweets -> tweet_transformed rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from tweetpipe.transform.enrich import (
    TRANSFORM_VERSION,
    TransformOptions,
    enrich,
    extract_emojis,
    fold_text,
)

GERMAN = "1440714938054418436"  # ß, hashtags, URL; lang de
RT_KOREAN = "1440717136192626696"  # RT @…: prefix, ▶ ◀, a URL cut to "htt…"
JAPANESE = "1440716520372404238"  # full-width punctuation
ZWJ = "1250109058746585089"  # 🤦🏽‍♂️: skin tone + ZWJ + gender sign + VS16
FLAGS = "1440714751642800139"  # 🇬🇧 and 👉🏻, Spanish
EMOJI_HEAVY = "1377650093109743620"  # a reply ending in 😊💙👍 and eight 👏
RT_UND = "1257786232978968578"  # "RT @frankgore: #Year16 ✈️✈️✈️", lang und
CASHTAGS = "1611077073803841538"  # eleven cashtags, media
MANY_URLS = "1610692575752601600"  # reply in a thread, 🎁 and 👇
QUOTE = "1404369555221319680"  # "#Reliance <url>", quote, lang und
REPLY_WITHOUT_REF = "1404370255149887488"  # in_reply_to_user_id, no referenced tweet
REPLY_WITHOUT_USER = "1404366022610616325"  # replied_to, no in_reply_to_user_id
EDITED = "1576994789110992896"  # edited.jsonl, lang qst
WITHHELD = "1388424788171841537"  # withheld.jsonl, curly quotes and em dashes
WITHHELD_RT = "1404396331897085955"  # a retweet whose author is withheld
AMP = "1440716983960363017"  # &amp;
LT_GT = "1440716774706532357"  # RT with &lt; … &gt; and a URL cut to "https://t.co/Vfd…"
NEGATIVE = "1440716745577140229"  # 🇪🇺✊🏻, media
MEDIA = "1558553189766631429"  # video
QUOTE_REPLY = "1576995594388000768"  # quoted_edit.jsonl: quotes and replies
LONG = "1440713966649417731"  # the longest sample text (325 code points)
ALL = [
    GERMAN, RT_KOREAN, JAPANESE, ZWJ, FLAGS, EMOJI_HEAVY, RT_UND, CASHTAGS, MANY_URLS, QUOTE,
    REPLY_WITHOUT_REF, REPLY_WITHOUT_USER, EDITED, WITHHELD, WITHHELD_RT, AMP, LT_GT, NEGATIVE,
    MEDIA, QUOTE_REPLY, LONG,
]

pytestmark = pytest.mark.spark
Rows = dict[str, dict[str, Any]]
Samples = dict[str, tuple[dict[str, Any], dict[str, Any]]]
Records = dict[str, dict[str, Any]]


def by_id(df: DataFrame) -> Rows:
    return {str(r["tweet_id"]): r.asDict() for r in df.collect()}


@pytest.fixture(scope="module")
def out(merge_df: Callable[..., DataFrame]) -> Rows:
    return by_id(enrich(merge_df(*ALL)).withColumn("minute_s", F.unix_seconds("minute")))


def test_columns_types_and_order(merge_df: Callable[..., DataFrame]) -> None:
    strings = "array<string>"
    expected = [
        ("tweet_id", "bigint"), ("created_at", "timestamp"), ("minute", "timestamp"),
        ("author_id", "bigint"), ("author_username", "string"), ("lang", "string"),
        ("text", "string"), ("clean_text", "string"), ("hashtags", strings),
        ("mentions", strings), ("cashtags", strings), ("urls", strings),
        ("url_domains", strings), ("emojis", strings), ("is_retweet", "boolean"),
        ("is_reply", "boolean"), ("is_quote", "boolean"), ("has_media", "boolean"),
        ("word_count", "int"), ("char_count", "int"), ("sentiment", "double"),
        ("sentiment_label", "string"), ("load_seq", "bigint"), ("transform_version", "int"),
        ("analysed_text", "string"),
    ]
    assert enrich(merge_df(GERMAN)).dtypes == expected


@pytest.mark.parametrize(("tweet_id", "clean_text"), [
    (GERMAN, "usa dämpfen britische hoffnung auf handelsabkommen"
             " #grossbritannien #usa #handelsabkommen #brexit"),
    (RT_KOREAN, "#원호 의 #잇츠라이브 긴장 모먼트💙 #wonho’s ‘itslive’ nervous moment ▶ ◀"  # noqa: RUF001
                " @official__wonho #kpop #잇츠라이브 ..."),
    (JAPANESE, "「boys be loud (初回ポスター丸めて付)( 韓国盤 )(韓メディアshop限定特典付)」"
               " が発売されます! #cd #音楽 #アジアンポップ #kpop #新作 #variousartists"),
    (ZWJ, "@_agaskin @kylelarsonracin maybe he thought he was in a quentin tarantino movie"
          " 🍿😳🤦🏽\u200d♂️"),
    (RT_UND, "#year16 ✈️✈️✈️"),
    (QUOTE, "#reliance"),
    (EDITED, "hey :)"),
    (WITHHELD, "when the pandemic first hit “india fought a phony war and—by dumb luck—it won."
               " then suddenly, less than three weeks ago, our world turned upside down”"),
    (AMP, "bts’s jimin makes heartwarming donation for polio patients | follow for #kpop &"  # noqa: RUF001
          " #kdrama updates"),
    (LT_GT, "<coming up next> #원호 - #notextnocall #wonho - no text no call @official__wonho"
            " #잇츠라이브 #kpop #itslive ..."),
    (MEDIA, "she's going with it! 🐍"),
    (QUOTE_REPLY, "@wongmjane test"),
])
def test_clean_text(out: Rows, tweet_id: str, clean_text: str) -> None:
    assert out[tweet_id]["clean_text"] == clean_text


def test_clean_text_keeps_cashtags_and_drops_every_url(out: Rows) -> None:
    row = out[CASHTAGS]
    assert row["clean_text"].startswith("now available with every trade ideas subscription.")
    assert row["clean_text"].endswith(
        "via:- #business #nft #stockmarket $amd #option $btc $twtr $ba $doge $baba $spy"
        " $spx $nio $etc $meta"
    )
    assert all("http" not in r["clean_text"] and "t.co" not in r["clean_text"]
               for r in out.values())


@pytest.mark.parametrize(("tweet_id", "emojis"), [
    (ZWJ, ["🍿", "😳", "🤦🏽\u200d♂️"]),
    (FLAGS, ["🇬🇧", "👉🏻", "⏬"]),
    (NEGATIVE, ["😜", "🇪🇺", "✊🏻"]),
    (EMOJI_HEAVY, ["😊", "💙", "👍"] + ["👏"] * 8),
    (RT_UND, ["✈️"] * 3),
    (RT_KOREAN, ["💙", "▶", "◀"]),
    (MANY_URLS, ["🎁", "🎁", "👇"]),
    (GERMAN, []),
])
def test_emojis(out: Rows, tweet_id: str, emojis: list[str]) -> None:
    assert out[tweet_id]["emojis"] == emojis


@pytest.mark.parametrize(("tweet_id", "domains"), [
    (GERMAN, ["tagesschau.de"]),  # http://www.tagesschau.de/…
    (JAPANESE, ["amazon.co.jp"]),
    (CASHTAGS, ["go.trade-ideas.com", "twitter.com"]),
    (LONG, ["twitter.com"]),  # four URLs, one host
    (WITHHELD_RT, ["support.twitter.com"]),
    (EDITED, ["twitter.com"]),
    (ZWJ, []),
])
def test_url_domains(out: Rows, tweet_id: str, domains: list[str]) -> None:
    assert out[tweet_id]["url_domains"] == domains


@pytest.mark.parametrize(("tweet_id", "flags"), [
    # (is_retweet, is_reply, is_quote, has_media)
    (RT_KOREAN, (True, False, False, False)),
    (WITHHELD_RT, (True, False, False, False)),
    (QUOTE, (False, False, True, False)),
    (QUOTE_REPLY, (False, True, True, False)),
    (REPLY_WITHOUT_REF, (False, True, False, False)),
    (REPLY_WITHOUT_USER, (False, True, False, False)),
    (MEDIA, (False, False, False, True)),
    (NEGATIVE, (False, True, False, True)),
    (LONG, (False, False, True, True)),
    (WITHHELD, (False, False, False, False)),
])
def test_flags(out: Rows, tweet_id: str, flags: tuple[bool, bool, bool, bool]) -> None:
    row = out[tweet_id]
    assert (row["is_retweet"], row["is_reply"], row["is_quote"], row["has_media"]) == flags


@pytest.mark.parametrize(("tweet_id", "words", "chars"), [
    (GERMAN, 10, 120),
    (LONG, 43, 325),
    (ZWJ, 12, 87),  # 🤦🏽‍♂️ is 5 code points, not a word
    (RT_UND, 1, 29),  # "#year16"; the airplanes are not words
    (EDITED, 1, 30),  # ":)" is not a word
    (QUOTE, 1, 33),
])
def test_counts(
    out: Rows, samples: Samples, tweet_id: str, words: int, chars: int
) -> None:
    assert (out[tweet_id]["word_count"], out[tweet_id]["char_count"]) == (words, chars)
    assert chars == len(samples[tweet_id][0]["text"])


def test_passthrough_and_minute(out: Rows, samples: Samples) -> None:
    row = out[CASHTAGS]
    assert (row["tweet_id"], row["author_id"], row["author_username"], row["lang"]) == (
        1611077073803841538, 1291963157271863297, "Trading22971312", "en")
    assert row["text"] == samples[CASHTAGS][0]["text"]
    assert row["cashtags"] == [
        "AMD", "BTC", "TWTR", "BA", "doge", "baba", "spy", "SPX", "NIO", "ETC", "META"]
    assert row["hashtags"] == ["business", "NFT", "StockMarket", "option"]
    assert row["load_seq"] == ALL.index(CASHTAGS) + 1
    assert row["transform_version"] == TRANSFORM_VERSION == 2
    # created_at 2023-01-05T19:08:33.000Z -> 2023-01-05T19:08:00Z
    assert row["minute_s"] == 1672945680
    assert out[RT_KOREAN]["mentions"] == ["itsLIVEofficial", "official__wonho"]


def test_null_arrays_read_as_empty(merge_df: Callable[..., DataFrame]) -> None:
    arrays = ["referenced_types", "analysis_hashtags", "analysis_mentions", "analysis_cashtags",
              "analysis_urls", "media_keys"]
    df = merge_df(MEDIA, RT_KOREAN).select(
        *[F.lit(None).cast("array<string>").alias(c) if c in arrays else c
          for c in merge_df(MEDIA).columns]
    )
    for row in enrich(df).collect():
        assert [row[c] for c in ("hashtags", "mentions", "cashtags", "urls", "url_domains")] == (
            [[]] * 5)
        assert not (row["is_retweet"] or row["is_quote"] or row["has_media"] or row["is_reply"])
    assert by_id(enrich(df))[RT_KOREAN]["clean_text"].startswith("#원호 의")


def test_strip_options(merge_df: Callable[..., DataFrame]) -> None:
    df = merge_df(GERMAN, NEGATIVE, QUOTE, WITHHELD_RT, REPLY_WITHOUT_USER)
    variants = {
        "mentions": TransformOptions(strip_mentions=True),
        "hashtags": TransformOptions(strip_hashtags=True),
        "both": TransformOptions(strip_mentions=True, strip_hashtags=True),
    }
    union = None
    for name, options in variants.items():
        part = enrich(df, options).select("tweet_id", "clean_text", F.lit(name).alias("v"))
        union = part if union is None else union.unionByName(part)
    assert union is not None
    got = {(str(r["tweet_id"]), r["v"]): r["clean_text"] for r in union.collect()}
    negative = (
        "i wonder what do those imbeciles who voted for think now about !... well, donkeys"
        " can’t think, but at least they feel !... 😜 sadly, not only donkeys suffer!.."  # noqa: RUF001
        " you can always return!... 🇪🇺✊🏻"
    )
    assert got[(NEGATIVE, "both")] == negative
    assert got[(NEGATIVE, "mentions")].startswith("#fuckbrexit #brexitsucks i wonder")
    assert got[(NEGATIVE, "hashtags")].startswith("@andrewknight226 i wonder")
    assert got[(GERMAN, "hashtags")] == "usa dämpfen britische hoffnung auf handelsabkommen"
    assert got[(GERMAN, "mentions")].endswith("#grossbritannien #usa #handelsabkommen #brexit")
    assert got[(QUOTE, "hashtags")] == ""
    assert got[(WITHHELD_RT, "mentions")] == (
        "'s account has been withheld in india in response to a legal demand. learn more.")
    assert got[(REPLY_WITHOUT_USER, "both")] == "2220 pe till now 42"


def test_python_helpers_match_spark(out: Rows, samples: Samples) -> None:
    """The pure helpers behind the pandas UDFs, on the same real texts."""
    text = samples[NEGATIVE][0]["text"]
    assert extract_emojis(text) == out[NEGATIVE]["emojis"]
    assert fold_text("Großbritannien ＡＢＣ！ &amp; &lt;b&gt; &quot;q&quot; &#39;s ﬁ") == (  # noqa: RUF001
        "grossbritannien abc! & <b> \"q\" 's fi")


@pytest.mark.parametrize("tweet_id", [RT_KOREAN, LT_GT])  # retweets X cut with "…"
def test_a_retweet_is_analysed_on_its_originals_full_text(
        merge_df: Callable[..., DataFrame], samples: Samples, merged: Records,
        tweet_id: str) -> None:
    (row,) = enrich(merge_df(tweet_id, merged=True)).collect()
    (cut,) = enrich(merge_df(tweet_id)).collect()  # the original not included: its cut text
    original = merged[tweet_id]["referenced_tweets"][0]["tweet"]
    entities = original.get("entities", {})
    assert row["analysed_text"] == "retweeted_original" and cut["analysed_text"] == (
        "truncated_retweet")
    assert row["text"] == cut["text"] == samples[tweet_id][0]["text"]  # its own, as delivered
    assert row["hashtags"] == [h["tag"] for h in entities.get("hashtags", [])]
    assert row["mentions"] == [m["username"] for m in entities.get("mentions", [])]
    assert row["urls"] == [u["expanded_url"] for u in entities.get("urls", [])]
    assert row["char_count"] == len(original["text"])
    assert not row["clean_text"].endswith("...") and cut["clean_text"].endswith("...")
    assert (row["tweet_id"], row["author_id"], row["is_retweet"]) == (
        cut["tweet_id"], cut["author_id"], True)
