"""Turn X API v2 payloads into self-contained tweet records.

A payload is a search response page (`data` is a list, with `includes`, `errors`, `meta`) or a
stream message (`data` is one object, with `matching_rules`). Each tweet in `data` becomes one
record: the tweet as delivered, with what `includes` holds for it merged in (author, in-reply-to
user, mentioned users, media, polls, place, referenced tweets and their authors, the earlier
versions of an edited tweet under `edit_versions`), the stream's
`matching_rules`, the partial `errors` that concern it, and provenance under `__tweetpipe`.
An unresolvable reference is left as it was delivered: it never breaks the record.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tweetpipe.errors import RecordError

JSON = dict[str, Any]
PROVENANCE_KEY = "__tweetpipe"


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
            items = includes.get(name) or []
            return {str(o[key]): o for o in items if isinstance(o, dict) and key in o}

        return cls(
            users=index("users", "id"),
            tweets=index("tweets", "id"),
            media=index("media", "media_key"),
            places=index("places", "id"),
            polls=index("polls", "id"),
        )

    @property
    def usernames(self) -> dict[str, JSON]:
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


def merge_payload(payload: Any, *, provenance: Mapping[str, Any]) -> Iterator[JSON]:
    """Yield one merged record per tweet in the payload's `data`."""
    tweets = payload_tweets(payload)
    if not tweets:
        return
    includes = Includes.from_payload(payload.get("includes"))
    rules = payload.get("matching_rules")
    errors = [e for e in payload.get("errors") or [] if isinstance(e, dict)]
    for tweet in tweets:
        record = merge_tweet(tweet, includes)
        if rules is not None:
            record["matching_rules"] = rules
        own_errors = _errors_for(record, errors)
        if own_errors:
            record["errors"] = own_errors
        record[PROVENANCE_KEY] = dict(provenance)
        yield record


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
    versions = [includes.tweets[v] for v in tweet.get("edit_history_tweet_ids") or []
                if v != tweet.get("id") and v in includes.tweets]
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
    media = [includes.media[k] for k in attachments.get("media_keys") or [] if k in includes.media]
    if media:
        merged["media"] = media
    polls = [includes.polls[p] for p in attachments.get("poll_ids") or [] if p in includes.polls]
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
    """The partial errors (deleted or protected references, ...) that name this tweet's parts."""
    if not errors:
        return []
    ids = {str(record.get(k)) for k in ("id", "author_id", "in_reply_to_user_id")}
    for ref in record.get("referenced_tweets") or []:
        if isinstance(ref, dict):
            ids.add(str(ref.get("id")))
    return [e for e in errors if str(e.get("resource_id") or e.get("value")) in ids]
