"""Field selection and `includes` assembly for the requested expansions, per the X v2 spec."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tweetpipe_emulator.store import Json, TweetStore

DEFAULT_FIELDS: Mapping[str, frozenset[str]] = {
    "tweet": frozenset({"id", "text", "edit_history_tweet_ids"}),
    "user": frozenset({"id", "name", "username"}),
    "media": frozenset({"media_key", "type"}),
    "place": frozenset({"id", "full_name"}),
    "poll": frozenset({"id", "options"}),
}
EXPANSIONS = frozenset(
    {
        "author_id",
        "referenced_tweets.id",
        "referenced_tweets.id.author_id",
        "in_reply_to_user_id",
        "entities.mentions.username",
        "attachments.media_keys",
        "attachments.poll_ids",
        "geo.place_id",
        "edit_history_tweet_ids",
    }
)
#: tweet fields an expansion needs; X returns them even when not in tweet.fields.
IMPLIED_FIELDS: Mapping[str, str] = {
    "author_id": "author_id",
    "referenced_tweets.id": "referenced_tweets",
    "in_reply_to_user_id": "in_reply_to_user_id",
    "entities.mentions.username": "entities",
    "attachments.media_keys": "attachments",
    "attachments.poll_ids": "attachments",
    "geo.place_id": "geo",
}


@dataclass(frozen=True)
class RequestedFields:
    """Parsed `expansions` and `*.fields` parameters."""

    expansions: frozenset[str]
    fields: Mapping[str, frozenset[str]]

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> RequestedFields:
        exp = _split(params.get("expansions", ""))
        fields = {
            kind: default | _split(params.get(f"{kind}.fields", ""))
            for kind, default in DEFAULT_FIELDS.items()
        }
        fields["tweet"] = fields["tweet"] | {IMPLIED_FIELDS[e] for e in exp if e in IMPLIED_FIELDS}
        return cls(exp, fields)

    def unknown_expansions(self) -> list[str]:
        return sorted(self.expansions - EXPANSIONS)


def _split(value: str) -> frozenset[str]:
    return frozenset(v.strip() for v in value.split(",") if v.strip())


def pick(obj: Json, fields: frozenset[str]) -> Json:
    return {k: v for k, v in obj.items() if k in fields}


class _Includes:
    def __init__(self) -> None:
        self.found: dict[str, dict[str, Json]] = {k: {} for k in ("users", "tweets", "media")}
        self.found |= {"places": {}, "polls": {}}
        self.missing: list[Json] = []

    def add(self, store: TweetStore, kind: str, key: str, parameter: str) -> Json | None:
        obj = store.get(kind, key)
        if obj is None:
            self.missing.append(_not_found(kind, key, parameter))
        else:
            self.found[kind].setdefault(key, obj)
        return obj


def _not_found(kind: str, key: str, parameter: str) -> Json:
    resource = {"users": "user", "tweets": "tweet", "media": "media"}.get(kind, kind[:-1])
    return {
        "value": key,
        "detail": f"Could not find {resource} with {parameter}: [{key}].",
        "title": "Not Found Error",
        "resource_type": resource,
        "parameter": parameter,
        "resource_id": key,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }


def _expand_tweet(store: TweetStore, sel: RequestedFields, tweet: Json, inc: _Includes) -> None:
    exp = sel.expansions
    if "author_id" in exp and "author_id" in tweet:
        inc.add(store, "users", str(tweet["author_id"]), "author_id")
    if "in_reply_to_user_id" in exp and "in_reply_to_user_id" in tweet:
        inc.add(store, "users", str(tweet["in_reply_to_user_id"]), "in_reply_to_user_id")
    if "entities.mentions.username" in exp:
        for m in (tweet.get("entities") or {}).get("mentions", []):
            user = store.user_by_name(str(m.get("username", "")))
            if user is not None:
                inc.found["users"].setdefault(str(user["id"]), user)
    attachments = tweet.get("attachments") or {}
    if "attachments.media_keys" in exp:
        for key in attachments.get("media_keys", []):
            inc.add(store, "media", str(key), "attachments.media_keys")
    if "attachments.poll_ids" in exp:
        for key in attachments.get("poll_ids", []):
            inc.add(store, "polls", str(key), "attachments.poll_ids")
    place = (tweet.get("geo") or {}).get("place_id")
    if "geo.place_id" in exp and place:
        inc.add(store, "places", str(place), "geo.place_id")
    if "edit_history_tweet_ids" in exp:
        for key in tweet.get("edit_history_tweet_ids", []):
            if str(key) != str(tweet["id"]):
                inc.add(store, "tweets", str(key), "edit_history_tweet_ids")


def _expand_refs(store: TweetStore, sel: RequestedFields, tweet: Json, inc: _Includes) -> None:
    if "referenced_tweets.id" not in sel.expansions:
        return
    for ref in tweet.get("referenced_tweets") or []:
        ref_tweet = inc.add(store, "tweets", str(ref["id"]), "referenced_tweets.id")
        if ref_tweet and "referenced_tweets.id.author_id" in sel.expansions:
            author = ref_tweet.get("author_id")
            if author:
                inc.add(store, "users", str(author), "referenced_tweets.id.author_id")


def render(store: TweetStore, sel: RequestedFields, tweets: Iterable[Json]) -> Json:
    """`{"data": [...], "includes": {...}, "errors": [...]}` (empty parts omitted)."""
    inc = _Includes()
    data: list[Json] = []
    with store.lock:
        for tweet in tweets:
            data.append(pick(tweet, sel.fields["tweet"]))
            _expand_tweet(store, sel, tweet, inc)
            _expand_refs(store, sel, tweet, inc)
    fields = {"users": "user", "tweets": "tweet", "media": "media", "places": "place"}
    fields["polls"] = "poll"
    includes = {
        kind: [pick(o, sel.fields[fields[kind]]) for o in objs.values()]
        for kind, objs in inc.found.items()
        if objs
    }
    out: Json = {"data": data}
    if includes:
        out["includes"] = includes
    if inc.missing:
        out["errors"] = inc.missing
    return out
