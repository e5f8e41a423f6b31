"""Turn X API v2 payloads into self-contained tweet records.

A payload is a search response page (`data` is a list, with `includes`, `errors`, `meta`) or a
stream message (`data` is one object, with `matching_rules`). Each tweet in `data` becomes one
record: the tweet as delivered, with what `includes` holds for it merged in (author, in-reply-to
user, mentioned users, media, polls, place, referenced tweets and their authors, the earlier
versions of an edited tweet under `edit_versions`), the stream's
`matching_rules`, the partial `errors` that concern it, and provenance under `__tweetpipe`.
An unresolvable reference is left as it was delivered: it never breaks the record.

A partial error concerns a tweet when the id or the value it names (`resource_id`, `value`) is
one of the tweet's parts, of the kind its `resource_type` says: the tweet or a referenced tweet
(`tweet`), the author, the in-reply-to user or a mentioned user, by id or username (`user`), a
medium (`media`), a poll (`poll`) or the place (`place`), its own or its referenced tweets'.
The errors that concern no tweet of the payload are kept too: `split_payload` gives them as one
errors record (provenance `kind` = "api_errors"), which travels through Kafka like a tweet and
is loaded into the `api_errors` table.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tweetpipe.errors import RecordError

JSON = dict[str, Any]
PROVENANCE_KEY = "__tweetpipe"
API_ERRORS_KIND = "api_errors"  # provenance `kind` of an errors record


@dataclass(frozen=True)
class Includes:
    """The `includes` of one payload, indexed by id."""

    users: Mapping[str, JSON] = field(default_factory=dict)
    tweets: Mapping[str, JSON] = field(default_factory=dict)
    media: Mapping[str, JSON] = field(default_factory=dict)
    places: Mapping[str, JSON] = field(default_factory=dict)
    polls: Mapping[str, JSON] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, includes: Any) -> Includes:
        if not isinstance(includes, dict):
            return cls()

        def index(name: str, key: str) -> dict[str, JSON]:
            items = _list(includes.get(name))
            return {str(o[key]): o for o in items if isinstance(o, dict) and key in o}

        return cls(
            users=index("users", "id"),
            tweets=index("tweets", "id"),
            media=index("media", "media_key"),
            places=index("places", "id"),
            polls=index("polls", "id"),
        )

    @functools.cached_property
    def usernames(self) -> dict[str, JSON]:
        """Users by lower-cased username; built once per payload (a page of 100 tweets asks
        for it once per tweet with mentions)."""
        return {str(u.get("username", "")).lower(): u for u in self.users.values()}


def payload_tweets(payload: Any) -> list[JSON]:
    """The tweets a payload delivers in `data` (a list for pages, one object for stream lines)."""
    if not isinstance(payload, dict):
        raise RecordError("payload is not a JSON object", type=type(payload).__name__)
    data = payload.get("data")
    if data is None:
        return []
    tweets = data if isinstance(data, list) else [data]
    for tweet in tweets:
        if not isinstance(tweet, dict) or not str(tweet.get("id", "")).isdigit():
            raise RecordError("`data` holds something that is not a tweet with a numeric id")
    return tweets


@dataclass(frozen=True)
class Split:
    """A payload as records: one per tweet, and one of the partial errors no tweet claims."""

    tweets: list[JSON]
    errors: JSON | None = None


def merge_payload(payload: Any, *, provenance: Mapping[str, Any]) -> Iterator[JSON]:
    """Yield one merged record per tweet in the payload's `data`."""
    yield from split_payload(payload, provenance=provenance).tweets


def split_payload(payload: Any, *, provenance: Mapping[str, Any]) -> Split:
    """The payload's tweet records, and an errors record of the partial errors that concern
    none of them (None when there are none)."""
    tweets = payload_tweets(payload)
    errors = [e for e in _list(payload.get("errors")) if isinstance(e, dict)]
    includes = Includes.from_payload(payload.get("includes"))
    rules = payload.get("matching_rules")
    records: list[JSON] = []
    claimed: set[int] = set()
    for tweet in tweets:
        record = merge_tweet(tweet, includes)
        if rules is not None:
            record["matching_rules"] = rules
        own_errors = _errors_for(record, errors)
        if own_errors:
            record["errors"] = own_errors
            claimed.update(id(e) for e in own_errors)
        record[PROVENANCE_KEY] = dict(provenance)
        records.append(record)
    rest = [e for e in errors if id(e) not in claimed]
    return Split(records, errors_record(rest, provenance) if rest else None)


def errors_record(errors: list[JSON], provenance: Mapping[str, Any]) -> JSON:
    """The record that carries partial errors no tweet claims through Kafka."""
    return {"errors": errors, PROVENANCE_KEY: {**provenance, "kind": API_ERRORS_KIND}}


def is_errors_record(record: Any) -> bool:
    return isinstance(record, dict) and isinstance(record.get(PROVENANCE_KEY), dict) and (
        record[PROVENANCE_KEY].get("kind") == API_ERRORS_KIND)


def merge_tweet(tweet: JSON, includes: Includes, *, depth: int = 0) -> JSON:
    """A copy of `tweet` with its includes merged in; the input is not changed."""
    record = dict(tweet)
    author = includes.users.get(str(tweet.get("author_id")))
    if author:
        record["author"] = author
    reply_to = includes.users.get(str(tweet.get("in_reply_to_user_id")))
    if reply_to:
        record["in_reply_to_user"] = reply_to
    if isinstance(tweet.get("entities"), dict):
        record["entities"] = _merge_mentions(tweet["entities"], includes)
    if isinstance(tweet.get("attachments"), dict):
        record["attachments"] = _merge_attachments(tweet["attachments"], includes)
    geo = tweet.get("geo")
    if isinstance(geo, dict) and str(geo.get("place_id")) in includes.places:
        record["geo"] = {**geo, "place": includes.places[str(geo["place_id"])]}
    refs = tweet.get("referenced_tweets")
    if isinstance(refs, list) and depth == 0:
        record["referenced_tweets"] = [_merge_reference(ref, includes) for ref in refs]
    versions = [includes.tweets[v] for v in _list(tweet.get("edit_history_tweet_ids"))
                if isinstance(v, str) and v != tweet.get("id") and v in includes.tweets]
    if versions and depth == 0:
        record["edit_versions"] = versions
    return record


def _merge_mentions(entities: JSON, includes: Includes) -> JSON:
    mentions = entities.get("mentions")
    if not isinstance(mentions, list):
        return entities
    by_name = includes.usernames
    merged = []
    for mention in mentions:
        if not isinstance(mention, dict):
            merged.append(mention)
            continue
        user = includes.users.get(str(mention.get("id"))) or by_name.get(
            str(mention.get("username", "")).lower()
        )
        merged.append({**mention, "user": user} if user else mention)
    return {**entities, "mentions": merged}


def _merge_attachments(attachments: JSON, includes: Includes) -> JSON:
    merged = dict(attachments)
    media = [includes.media[k] for k in _list(attachments.get("media_keys"))
             if isinstance(k, str) and k in includes.media]
    if media:
        merged["media"] = media
    polls = [includes.polls[p] for p in _list(attachments.get("poll_ids"))
             if isinstance(p, str) and p in includes.polls]
    if polls:
        merged["polls"] = polls
    return merged


def _merge_reference(ref: Any, includes: Includes) -> Any:
    if not isinstance(ref, dict):
        return ref
    target = includes.tweets.get(str(ref.get("id")))
    if target is None:
        return ref
    return {**ref, "tweet": merge_tweet(target, includes, depth=1)}


def _errors_for(record: JSON, errors: list[JSON]) -> list[JSON]:
    """The partial errors (deleted or protected references, suspended users, ...) that name
    a part of this tweet or of the tweets it references."""
    if not errors:
        return []
    parts = _parts(record)
    for ref in _list(record.get("referenced_tweets")):
        if not isinstance(ref, dict):
            continue
        if isinstance(ref.get("id"), str):
            parts.add(("tweet", ref["id"]))
        if isinstance(ref.get("tweet"), dict):
            parts |= _parts(ref["tweet"])
    return [e for e in errors if _concerns(e, parts)]


KINDS = ("tweet", "user", "media", "poll", "place")


def _concerns(error: JSON, parts: set[tuple[str, str]]) -> bool:
    """Does the error name one of `parts`? Of its `resource_type` when X gives a known one."""
    named = {str(error[k]).lower() for k in ("resource_id", "value")
             if isinstance(error.get(k), str | int) and not isinstance(error.get(k), bool)}
    kind = error.get("resource_type")
    if kind in KINDS:
        return any((kind, name) in parts for name in named)
    return any(name == part for _, part in parts for name in named)


def _parts(tweet: JSON) -> set[tuple[str, str]]:
    """(kind, lower-cased id or name) of what one tweet names: itself, its users (by id and
    username), media, polls and place."""
    def values(*items: Any) -> set[str]:
        return {str(v).lower() for v in items if isinstance(v, str | int) and v != ""}

    note = _obj(_obj(tweet.get("note_tweet")).get("entities"))  # a long post's own entities
    mentions = [m for m in (*_list(_obj(tweet.get("entities")).get("mentions")),
                            *_list(note.get("mentions"))) if isinstance(m, dict)]
    author, attachments = _obj(tweet.get("author")), _obj(tweet.get("attachments"))
    found = {
        "tweet": values(tweet.get("id")),
        "user": values(tweet.get("author_id"), tweet.get("in_reply_to_user_id"),
                       author.get("username"), *(m.get("id") for m in mentions),
                       *(m.get("username") for m in mentions)),
        "media": values(*_list(attachments.get("media_keys"))),
        "poll": values(*_list(attachments.get("poll_ids"))),
        "place": values(_obj(tweet.get("geo")).get("place_id")),
    }
    return {(kind, name) for kind, names in found.items() for name in names}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _obj(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}
