"""The tables the loader writes, declared once: each column's name, PostgreSQL type and source.

A `TableSpec` lists a table's columns in table order. A column with a `get` function is loaded
from a record (the function reads one of the `sources` through the type-safe accessors of
`values`, the column's type converts what it returns); one without is filled by PostgreSQL
(sequence numbers, defaults). Everything else is derived from these specs: the loader's rows
and COPY column lists (`TableSpec.row`, `TableSpec.columns`), the staging tables, the upserts,
the Spark schema of the transform's input (`TableSpec.spark_ddl`, `TRANSFORM_INPUT`), and the
tests. Migrations create the tables; a test checks that they match these specs.

Of two copies of a row the one X served later wins (`newest`): the record's `served_at`
(provenance: the response's `Date`, a recording's `retrieved_at`), else its `collected_at`.
`analysis_*` are what the transform analyses: for a retweet its original's full text and
entities (see `sources.TweetSource.analysed`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from tweetpipe.collect.records import PROVENANCE_KEY
from tweetpipe.load.sources import (
    Coordinates,
    ErrorSource,
    ItemSource,
    TweetSource,
    delivered_tweet,
    expanded_urls,
    full_text,
    ident,
    tags,
)
from tweetpipe.load.values import JSON, integer, items, obj, objs, path
from tweetpipe.load.values import converter as _converter

__all__ = ["API_ERRORS", "AUTHORS", "INCLUDED", "MEDIA", "PLACES", "POLLS", "TABLES",
           "TRANSFORM_INPUT", "TWEETS", "Column", "Coordinates", "TableSpec"]

_SPARK_TYPES = {"bigint": "BIGINT", "integer": "INT", "text": "STRING", "boolean": "BOOLEAN",
                "timestamptz": "TIMESTAMP", "double precision": "DOUBLE", "jsonb": "STRING"}


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str
    get: Callable[[Any], Any] | None = None  # None: PostgreSQL fills it

    def spark_ddl(self) -> str:
        if self.pg_type.endswith("[]"):
            return f"{self.name} ARRAY<{_SPARK_TYPES[self.pg_type[:-2]]}>"
        return f"{self.name} {_SPARK_TYPES[self.pg_type]}"


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: str | tuple[str, ...]  # the primary key: a column, or several
    all_columns: tuple[Column, ...]
    newest: str = "seen_at"  # of two copies of a row, the one with the greater value wins
    sequenced: bool = False  # rows get a load sequence number (tweet_merge.load_seq)

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.key,) if isinstance(self.key, str) else self.key

    @cached_property
    def loaded(self) -> tuple[Column, ...]:
        return tuple(c for c in self.all_columns if c.get is not None)

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """The loaded columns, in the order of `row`."""
        return tuple(c.name for c in self.loaded)

    @cached_property
    def _plan(self) -> tuple[tuple[Callable[[Any], Any], Callable[[Any], Any]], ...]:
        return tuple((c.get, _converter(c.pg_type)) for c in self.loaded if c.get is not None)

    def row(self, source: Any) -> tuple[Any, ...]:
        """The loaded columns of one row, each read from `source` and converted to its type."""
        return tuple([convert(get(source)) for get, convert in self._plan])

    def index(self, name: str) -> int:
        return self.columns.index(name)

    def column(self, name: str) -> Column:
        for c in self.all_columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    def select(self, *names: str) -> tuple[str, ...]:
        """`names`, checked to be columns of this table."""
        for name in names:
            self.column(name)
        return names

    def spark_ddl(self, names: Iterable[str]) -> str:
        """A Spark DDL schema of these columns, typed as Spark's JDBC reader types them."""
        return ", ".join(self.column(n).spark_ddl() for n in names)

def _edit_root(t: TweetSource) -> int | None:
    return t.edits[0] if t.edits else t.id


def _included_edit_root(s: ItemSource) -> int | None:
    edits = items(s.item.get("edit_history_tweet_ids")) or [s.item.get("id")]
    return integer(edits[0])


def _record(key: str) -> Callable[[TweetSource], Any]:
    return lambda t: t.record.get(key)


def _metric(key: str) -> Callable[[TweetSource], Any]:
    return lambda t: t.metrics.get(key)


def _item(key: str, inner: str | None = None) -> Callable[[ItemSource], Any]:
    if inner is None:
        return lambda s: s.item.get(key)
    return lambda s: obj(s.item.get(key)).get(inner)


def _seen(s: ItemSource) -> str:
    return s.seen


def _hashtags(e: JSON) -> list[str]:
    return tags(e, "hashtags", "tag")


def _mentions(e: JSON) -> list[str]:
    return tags(e, "mentions", "username")


def _cashtags(e: JSON) -> list[str]:
    return tags(e, "cashtags", "tag")


def _own(read: Callable[[JSON], list[Any]]) -> Callable[[TweetSource], Any]:
    return lambda t: t.entity_values(read, analysed=False)


def _analysed(read: Callable[[JSON], list[Any]]) -> Callable[[TweetSource], Any]:
    return lambda t: t.entity_values(read, analysed=True)


def _error(key: str) -> Callable[[ErrorSource], Any]:
    return lambda e: e.error.get(key)


def _raw(s: ItemSource) -> JSON:
    return s.item


TWEETS = TableSpec("tweet_merge", "tweet_id", newest="served_at", sequenced=True, all_columns=(
    Column("tweet_id", "bigint", lambda t: t.id),
    Column("author_id", "bigint", _record("author_id")),
    Column("conversation_id", "bigint", _record("conversation_id")),
    Column("in_reply_to_user_id", "bigint", _record("in_reply_to_user_id")),
    Column("author_username", "text", lambda t: t.author.get("username")),
    Column("author_name", "text", lambda t: t.author.get("name")),
    Column("author_verified_type", "text", lambda t: t.author.get("verified_type")),
    Column("created_at", "timestamptz", _record("created_at")),
    Column("lang", "text", _record("lang")),
    Column("text", "text", TweetSource.text),
    Column("source", "text", _record("source")),
    Column("possibly_sensitive", "boolean", _record("possibly_sensitive")),
    Column("reply_settings", "text", _record("reply_settings")),
    Column("retweet_count", "integer", _metric("retweet_count")),
    Column("reply_count", "integer", _metric("reply_count")),
    Column("like_count", "integer", _metric("like_count")),
    Column("quote_count", "integer", _metric("quote_count")),
    Column("bookmark_count", "integer", _metric("bookmark_count")),
    Column("impression_count", "bigint", _metric("impression_count")),
    Column("referenced_types", "text[]", lambda t: [r.get("type") for r in t.refs]),
    Column("referenced_ids", "bigint[]", lambda t: [r.get("id") for r in t.refs]),
    Column("hashtags", "text[]", _own(_hashtags)),
    Column("mentions", "text[]", _own(_mentions)),
    Column("cashtags", "text[]", _own(_cashtags)),
    Column("urls", "text[]", _own(expanded_urls)),
    Column("media_keys", "text[]", lambda t: items(t.attachments.get("media_keys"))),
    Column("media_types", "text[]", lambda t: [m.get("type")
                                               for m in objs(t.attachments.get("media"))]),
    Column("place_id", "text", lambda t: t.geo.get("place_id")),
    Column("coordinates", "double precision[]", lambda t: path(t.geo, "coordinates",
                                                                "coordinates")),
    Column("withheld", "jsonb", _record("withheld")),
    Column("edit_history_tweet_ids", "bigint[]", lambda t: t.edits or None),
    Column("edit_root_id", "bigint", _edit_root),
    Column("is_current", "boolean"),
    Column("matching_rules", "jsonb", _record("matching_rules")),
    Column("errors", "jsonb", _record("errors")),
    Column("collect_source", "text", lambda t: path(t.record, PROVENANCE_KEY, "source")),
    Column("collected_at", "timestamptz", lambda t: t.collected),
    Column("kafka_topic", "text", lambda t: t.where.topic),
    Column("kafka_partition", "integer", lambda t: t.where.partition),
    Column("kafka_offset", "bigint", lambda t: t.where.offset),
    Column("loaded_at", "timestamptz"),
    Column("load_seq", "bigint"),
    Column("raw", "jsonb", lambda t: delivered_tweet(t.record)),
    Column("served_at", "timestamptz", lambda t: t.served),
    Column("analysed_text", "text", lambda t: t.analysed[0]),
    Column("analysis_text", "text", lambda t: full_text(t.analysed[1])),
    Column("analysis_hashtags", "text[]", _analysed(_hashtags)),
    Column("analysis_mentions", "text[]", _analysed(_mentions)),
    Column("analysis_cashtags", "text[]", _analysed(_cashtags)),
    Column("analysis_urls", "text[]", _analysed(expanded_urls)),
))

AUTHORS = TableSpec("tweet_author", "user_id", all_columns=(
    Column("user_id", "bigint", lambda s: ident(s.item.get("id"))),
    Column("username", "text", _item("username")),
    Column("name", "text", _item("name")),
    Column("verified", "boolean", _item("verified")),
    Column("verified_type", "text", _item("verified_type")),
    Column("followers_count", "integer", _item("public_metrics", "followers_count")),
    Column("following_count", "integer", _item("public_metrics", "following_count")),
    Column("tweet_count", "integer", _item("public_metrics", "tweet_count")),
    Column("created_at", "timestamptz", _item("created_at")),
    Column("location", "text", _item("location")),
    Column("description", "text", _item("description")),
    Column("seen_at", "timestamptz", _seen),
    Column("raw", "jsonb", _raw),
))

MEDIA = TableSpec("tweet_media", "media_key", all_columns=(
    Column("media_key", "text", lambda s: str(s.item["media_key"])),
    Column("type", "text", _item("type")),
    Column("url", "text", _item("url")),
    Column("preview_url", "text", _item("preview_image_url")),
    Column("width", "integer", _item("width")),
    Column("height", "integer", _item("height")),
    Column("duration_ms", "integer", _item("duration_ms")),
    Column("view_count", "bigint", _item("public_metrics", "view_count")),
    Column("alt_text", "text", _item("alt_text")),
    Column("seen_at", "timestamptz", _seen),
    Column("raw", "jsonb", _raw),
))

PLACES = TableSpec("tweet_place", "place_id", all_columns=(
    Column("place_id", "text", lambda s: str(s.item["id"])),
    Column("full_name", "text", _item("full_name")),
    Column("name", "text", _item("name")),
    Column("country", "text", _item("country")),
    Column("country_code", "text", _item("country_code")),
    Column("place_type", "text", _item("place_type")),
    Column("bbox", "double precision[]", _item("geo", "bbox")),
    Column("seen_at", "timestamptz", _seen),
    Column("raw", "jsonb", _raw),
))

POLLS = TableSpec("tweet_poll", "poll_id", all_columns=(
    Column("poll_id", "text", lambda s: str(s.item["id"])),
    Column("voting_status", "text", _item("voting_status")),
    Column("end_datetime", "timestamptz", _item("end_datetime")),
    Column("duration_minutes", "integer", _item("duration_minutes")),
    Column("options", "jsonb", _item("options")),
    Column("seen_at", "timestamptz", _seen),
    Column("raw", "jsonb", _raw),
))

INCLUDED = TableSpec("tweet_included", "tweet_id", all_columns=(
    Column("tweet_id", "bigint", lambda s: ident(s.item.get("id"))),
    Column("author_id", "bigint", _item("author_id")),
    Column("created_at", "timestamptz", _item("created_at")),
    Column("text", "text", lambda s: full_text(s.item)),
    Column("edit_root_id", "bigint", _included_edit_root),
    Column("seen_at", "timestamptz", _seen),
    Column("raw", "jsonb", lambda s: delivered_tweet(s.item)),
))

#: Partial errors of X's responses that concern no tweet of theirs (those that do are in their
#: tweets' `errors`): one row per error and time X served it, with where it came from.
API_ERRORS = TableSpec("api_errors", ("served_at", "error_key"), newest="served_at", all_columns=(
    Column("served_at", "timestamptz", lambda e: e.served),
    Column("error_key", "text", ErrorSource.key),
    Column("title", "text", _error("title")),
    Column("detail", "text", _error("detail")),
    Column("type", "text", _error("type")),
    Column("resource_type", "text", _error("resource_type")),
    Column("resource_id", "text", _error("resource_id")),
    Column("parameter", "text", _error("parameter")),
    Column("value", "text", _error("value")),
    Column("collect_source", "text", lambda e: e.provenance("source")),
    Column("origin", "text", lambda e: e.provenance("origin")),
    Column("url", "text", lambda e: e.provenance("url")),
    Column("collected_at", "timestamptz", lambda e: e.collected),
    Column("kafka_topic", "text", lambda e: e.where.topic),
    Column("kafka_partition", "integer", lambda e: e.where.partition),
    Column("kafka_offset", "bigint", lambda e: e.where.offset),
    Column("loaded_at", "timestamptz"),
    Column("raw", "jsonb", lambda e: e.error),
))

TABLES = (TWEETS, AUTHORS, MEDIA, PLACES, POLLS, INCLUDED, API_ERRORS)
#: The columns of tweet_merge the transform reads (their Spark types come from this spec).
TRANSFORM_INPUT = TWEETS.select(
    "tweet_id", "author_id", "author_username", "created_at", "lang", "text",
    "in_reply_to_user_id", "referenced_types", "media_keys", "load_seq", "analysed_text",
    "analysis_text", "analysis_hashtags", "analysis_mentions", "analysis_cashtags",
    "analysis_urls",
)
TWEET_COLUMNS = TWEETS.columns
AUTHOR_COLUMNS = AUTHORS.columns
MEDIA_COLUMNS = MEDIA.columns
PLACE_COLUMNS = PLACES.columns
POLL_COLUMNS = POLLS.columns
INCLUDED_COLUMNS = INCLUDED.columns
