"""VADER sentiment for English tweets, as Spark columns.

The score is VADER's compound score (-1 .. 1) on the tweet text with URLs removed but case and
emoji intact (VADER reads capitalisation, punctuation and emoji). Only English (`lang == 'en'`)
is scored: VADER's lexicon is English, so other languages, `und` and a missing `lang` get a null
score and the label `not_scored`. The analyzer loads its bundled lexicon once per Python worker
process, on first use.
"""

from __future__ import annotations

import html

import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.pandas.functions import pandas_udf
from pyspark.sql.types import DoubleType
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

SCORED_LANGS = frozenset({"en"})
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
POSITIVE, NEGATIVE, NEUTRAL, NOT_SCORED = "positive", "negative", "neutral", "not_scored"

_analyzer: SentimentIntensityAnalyzer | None = None


def analyzer() -> SentimentIntensityAnalyzer:
    """The process-wide analyzer; loading the lexicon takes a while, so it is done once."""
    global _analyzer
    if _analyzer is None:
        _analyzer = SentimentIntensityAnalyzer()
    return _analyzer


def compound_score(text: object, lang: object) -> float | None:
    """VADER's compound score of `text` (HTML entities unescaped), or None if not scored."""
    if not isinstance(text, str) or lang not in SCORED_LANGS:
        return None
    return float(analyzer().polarity_scores(html.unescape(text))["compound"])


def compound_scores(texts: pd.Series, langs: pd.Series) -> pd.Series:
    """Vectorised entry point for the pandas UDF: one score (or None) per row."""
    scores = [compound_score(t, lg) for t, lg in zip(texts, langs, strict=True)]
    return pd.Series(scores, index=texts.index, dtype="float64")


# Wrapping the module-level function (rather than decorating it) keeps it picklable by
# reference, so Python workers import this module and share its analyzer between tasks.
_compound_udf = pandas_udf(compound_scores, DoubleType())  # type: ignore[call-overload]


def sentiment_score(text: Column, lang: Column) -> Column:
    """Compound score of `text` for scored languages, else null. `text` must be URL-free."""
    score: Column = _compound_udf(text, lang)
    return score


def sentiment_label(score: Column) -> Column:
    """`positive` / `negative` / `neutral` by VADER's usual thresholds; null score: not_scored."""
    return (
        F.when(score.isNull(), F.lit(NOT_SCORED))
        .when(score >= POSITIVE_THRESHOLD, F.lit(POSITIVE))
        .when(score <= NEGATIVE_THRESHOLD, F.lit(NEGATIVE))
        .otherwise(F.lit(NEUTRAL))
    )
