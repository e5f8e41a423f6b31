"""Per-tweet transforms: `tweet_merge` rows -> `tweet_transformed` rows, as one Spark plan.

Regular-expression work (URLs, the retweet prefix, mention and hashtag tokens, whitespace, URL
hosts) runs in Spark built-ins. What the JVM cannot do the way Python does (HTML unescaping,
Unicode NFKC, full case folding, emoji sequences, VADER) runs in vectorised pandas UDFs, all
evaluated in a single Arrow round trip per batch since none depends on another's output.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.functions import pandas_udf
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from tweetpipe.transform.sentiment import sentiment_label, sentiment_score

TRANSFORM_VERSION = 2  # 2: a retweet analysed on its original's full text and entities

_STRINGS = ArrayType(StringType())
OUTPUT_SCHEMA = StructType([
    StructField(name, kind) for name, kind in (
        ("tweet_id", LongType()), ("created_at", TimestampType()), ("minute", TimestampType()),
        ("author_id", LongType()), ("author_username", StringType()), ("lang", StringType()),
        ("text", StringType()), ("clean_text", StringType()), ("hashtags", _STRINGS),
        ("mentions", _STRINGS), ("cashtags", _STRINGS), ("urls", _STRINGS),
        ("url_domains", _STRINGS), ("emojis", _STRINGS), ("is_retweet", BooleanType()),
        ("is_reply", BooleanType()), ("is_quote", BooleanType()), ("has_media", BooleanType()),
        ("word_count", IntegerType()), ("char_count", IntegerType()),
        ("sentiment", DoubleType()), ("sentiment_label", StringType()),
        ("load_seq", LongType()), ("transform_version", IntegerType()),
        ("analysed_text", StringType()),
    )
])


@dataclass(frozen=True)
class TransformOptions:
    strip_mentions: bool = False
    strip_hashtags: bool = False


# --- Java regular expressions, for Spark built-ins -------------------------------------------
_RT_PREFIX = r"^RT [@\uFF20][A-Za-z0-9_]+:\s*"
# A URL, up to whitespace or the ellipsis X appends to truncated retweet text; and the stub of a
# URL cut by that truncation ("… #kpop htt…"). The ellipsis itself is kept, as for cut words.
_URL = r"(?i)https?://[^\s\p{Z}…]*|(?<!\S)htt(?:ps?:?/{0,2})?(?=…)"
_MENTION = r"(?<![\p{L}\p{N}_@\uFF20])[@\uFF20][A-Za-z0-9_]+"
# As X parses them: letters, marks, digits and underscores, with at least one letter or mark.
_HASHTAG = r"(?<![\p{L}\p{N}_&])[#\uFF03](?=[\p{N}_]*[\p{L}\p{M}])[\p{L}\p{M}\p{N}_]+"
_WHITESPACE = r"(?U)\s+"
_WORD = r"[\p{L}\p{N}]"
_URL_HOST = r"^[A-Za-z][A-Za-z0-9+.\-]*://(?:[^/?#@]*@)?([^/?#:\s]+)"

# --- Emoji (Python `re`) ----------------------------------------------------------------------
# Code points with the Unicode Emoji property (emoji-data.txt, Unicode 15.1), ASCII keycap
# bases and ©®™ excluded: those count only as keycaps or followed by VS16 (U+FE0F).
_EMOJI_CHARS = (
    "\u203c\u2049\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf\u23e9-\u23f3"
    "\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u2604\u260e\u2611"
    "\u2614\u2615\u2618\u261d\u2620\u2622\u2623\u2626\u262a\u262e\u262f\u2638-\u263a\u2640"
    "\u2642\u2648-\u2653\u265f\u2660\u2663\u2665\u2666\u2668\u267b\u267e\u267f\u2692-\u2697"
    "\u2699\u269b\u269c\u26a0\u26a1\u26a7\u26aa\u26ab\u26b0\u26b1\u26bd\u26be\u26c4\u26c5"
    "\u26c8\u26ce\u26cf\u26d1\u26d3\u26d4\u26e9\u26ea\u26f0-\u26f5\u26f7-\u26fa\u26fd\u2702"
    "\u2705\u2708-\u270d\u270f\u2712\u2714\u2716\u271d\u2721\u2728\u2733\u2734\u2744\u2747"
    "\u274c\u274e\u2753-\u2755\u2757\u2763\u2764\u2795-\u2797\u27a1\u27b0\u27bf\u2934\u2935"
    "\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d\u3297\u3299"
    "\U0001f004\U0001f0cf\U0001f170\U0001f171\U0001f17e\U0001f17f\U0001f18e"
    "\U0001f191-\U0001f19a\U0001f1e6-\U0001f1ff\U0001f201\U0001f202\U0001f21a\U0001f22f"
    "\U0001f232-\U0001f23a\U0001f250\U0001f251\U0001f300-\U0001f321\U0001f324-\U0001f393"
    "\U0001f396\U0001f397\U0001f399-\U0001f39b\U0001f39e-\U0001f3f0\U0001f3f3-\U0001f3f5"
    "\U0001f3f7-\U0001f4fd\U0001f4ff-\U0001f53d\U0001f549-\U0001f54e\U0001f550-\U0001f567"
    "\U0001f56f\U0001f570\U0001f573-\U0001f57a\U0001f587\U0001f58a-\U0001f58d\U0001f590"
    "\U0001f595\U0001f596\U0001f5a4\U0001f5a5\U0001f5a8\U0001f5b1\U0001f5b2\U0001f5bc"
    "\U0001f5c2-\U0001f5c4\U0001f5d1-\U0001f5d3\U0001f5dc-\U0001f5de\U0001f5e1\U0001f5e3"
    "\U0001f5e8\U0001f5ef\U0001f5f3\U0001f5fa-\U0001f64f\U0001f680-\U0001f6c5"
    "\U0001f6cb-\U0001f6d2\U0001f6d5-\U0001f6d7\U0001f6dc-\U0001f6e5\U0001f6e9"
    "\U0001f6eb\U0001f6ec\U0001f6f0\U0001f6f3-\U0001f6fc\U0001f7e0-\U0001f7eb\U0001f7f0"
    "\U0001f90c-\U0001f93a\U0001f93c-\U0001f945\U0001f947-\U0001f9ff\U0001fa70-\U0001faff"
)
# One emoji: a character (not forced to text style by VS15) with optional VS16 and skin tone,
# or ©®™ with VS16; then emoji ZWJ sequences, flags, keycaps and tag sequences (subdivisions).
_EMOJI_ELEMENT = (
    f"(?:[{_EMOJI_CHARS}](?!\ufe0e)\ufe0f?[\U0001f3fb-\U0001f3ff]?|[\u00a9\u00ae\u2122]\ufe0f)"
)
_EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff]{2}"
    "|[#*0-9]\ufe0f?\u20e3"
    "|\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f"
    f"|{_EMOJI_ELEMENT}(?:\u200d{_EMOJI_ELEMENT})*"
)


def extract_emojis(text: str) -> list[str]:
    """Every emoji in `text`, in order, multi-code-point sequences kept whole."""
    return _EMOJI.findall(text)


def fold_text(text: str) -> str:
    """HTML entities unescaped, then NFKC and full case folding (NFKC again: folding can
    produce characters that NFKC would change)."""
    nfkc = unicodedata.normalize("NFKC", html.unescape(text))
    return unicodedata.normalize("NFKC", nfkc.casefold())


def _fold_series(texts: pd.Series) -> pd.Series:
    return texts.map(fold_text, na_action="ignore")


def _emoji_series(texts: pd.Series) -> pd.Series:
    return pd.Series(
        [extract_emojis(t) if isinstance(t, str) else [] for t in texts],
        index=texts.index, dtype="object",
    )


# Module-level functions wrapped (not decorated), so workers import them by reference.
_fold_udf = pandas_udf(_fold_series, StringType())  # type: ignore[call-overload]
_emoji_udf = pandas_udf(_emoji_series, _STRINGS)  # type: ignore[call-overload]


# --- Spark columns ----------------------------------------------------------------------------
def _strings(name: str) -> Column:
    """An array<string> input column, null read as empty."""
    return F.coalesce(F.col(name), F.array().cast(_STRINGS))


def _without_urls(text: Column) -> Column:
    """Text with the leading `RT @user:` and URLs removed; what sentiment is scored on."""
    return F.regexp_replace(F.regexp_replace(text, _RT_PREFIX, ""), _URL, " ")


def _clean_text(base: Column, options: TransformOptions) -> Column:
    if options.strip_mentions:
        base = F.regexp_replace(base, _MENTION, " ")
    if options.strip_hashtags:
        base = F.regexp_replace(base, _HASHTAG, " ")
    return F.trim(F.regexp_replace(_fold_udf(base), _WHITESPACE, " "))


def _url_domains(urls: Column) -> Column:
    def host(url: Column) -> Column:
        found = F.lower(F.regexp_extract(url, _URL_HOST, 1))
        return F.regexp_replace(found, r"^www\.|\.$", "")

    return F.array_distinct(F.filter(F.transform(urls, host), lambda h: h != ""))


def _word_count(clean_text: Column) -> Column:
    return F.size(F.filter(F.split(clean_text, " "), lambda w: w.rlike(_WORD)))


def _minute(ts: Column) -> Column:
    """`ts` truncated to the minute in UTC, whatever the session time zone."""
    seconds = F.unix_seconds(ts)
    return F.timestamp_seconds(seconds - F.pmod(seconds, F.lit(60)))


def enrich(df: DataFrame, options: TransformOptions = TransformOptions()) -> DataFrame:
    """`tweet_merge` rows (as read over JDBC) -> rows of `tweet_transformed` (OUTPUT_SCHEMA).

    What is derived from text (clean text, entities, emojis, counts, sentiment) comes from the
    `analysis_*` columns: a retweet's original's full text and entities (`analysed_text` says
    which); the row keeps the tweet's own id, author, text and flags."""
    refs = _strings("referenced_types")
    text = F.col("analysis_text")
    base = _without_urls(text)
    staged = df.select(
        "*",
        _clean_text(base, options).alias("_clean"),
        sentiment_score(base, F.col("lang")).alias("_sentiment"),
        _emoji_udf(text).alias("_emojis"),
    )
    columns: dict[str, Column] = {
        "tweet_id": F.col("tweet_id"),
        "created_at": F.col("created_at"),
        "minute": _minute(F.col("created_at")),
        "author_id": F.col("author_id"),
        "author_username": F.col("author_username"),
        "lang": F.col("lang"),
        "text": F.col("text"),
        "clean_text": F.col("_clean"),
        "hashtags": _strings("analysis_hashtags"),
        "mentions": _strings("analysis_mentions"),
        "cashtags": _strings("analysis_cashtags"),
        "urls": _strings("analysis_urls"),
        "url_domains": _url_domains(_strings("analysis_urls")),
        "emojis": F.col("_emojis"),
        "is_retweet": F.array_contains(refs, "retweeted"),
        "is_reply": F.col("in_reply_to_user_id").isNotNull() | F.array_contains(refs, "replied_to"),
        "is_quote": F.array_contains(refs, "quoted"),
        "has_media": F.size(_strings("media_keys")) > 0,
        "word_count": _word_count(F.col("_clean")),
        "char_count": F.length(text),
        "sentiment": F.col("_sentiment"),
        "sentiment_label": sentiment_label(F.col("_sentiment")),
        "load_seq": F.col("load_seq"),
        "transform_version": F.lit(TRANSFORM_VERSION),
        "analysed_text": F.col("analysed_text"),
    }
    return staged.select(*[
        columns[f.name].cast(f.dataType).alias(f.name) for f in OUTPUT_SCHEMA.fields
    ])
