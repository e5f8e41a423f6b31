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
#: the `expansions` enum of the tweet endpoints in X's OpenAPI spec (2.159): search, streams.
EXPANSIONS = frozenset(
    {
        "article.cover_media",
        "article.media_entities",
        "attachments.media_keys",
        "attachments.media_source_tweet",
        "attachments.poll_ids",
        "author_id",
        "edit_history_tweet_ids",
        "entities.mentions.username",
        "entities.note.mentions.username",
        "geo.place_id",
        "in_reply_to_user_id",
        "referenced_tweets.id",
        "referenced_tweets.id.attachments.media_keys",
        "referenced_tweets.id.author_id",
    }
)
#: tweet fields an expansion needs; X returns them even when not in tweet.fields.
IMPLIED_FIELDS: Mapping[str, str] = {
    "article.cover_media": "article",
    "article.media_entities": "article",
    "author_id": "author_id",
    "referenced_tweets.id": "referenced_tweets",
    "referenced_tweets.id.author_id": "referenced_tweets",
    "referenced_tweets.id.attachments.media_keys": "referenced_tweets",
    "in_reply_to_user_id": "in_reply_to_user_id",
    "entities.mentions.username": "entities",
    "entities.note.mentions.username": "note_tweet",
    "attachments.media_keys": "attachments",
    "attachments.media_source_tweet": "attachments",
    "attachments.poll_ids": "attachments",
    "geo.place_id": "geo",
    "edit_history_tweet_ids": "edit_history_tweet_ids",
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
            self.fail(store.recorded_error(parameter, key) or _not_found(kind, key, parameter))
        else:
            self.found[kind].setdefault(key, obj)
        return obj

    def fail(self, error: Json) -> None:
        if error not in self.missing:
            self.missing.append(error)

    def mention(self, store: TweetStore, username: str, parameter: str) -> None:
        """A mentioned user, or the recording's error for them (suspended, ...). X names no
        error for a mention it cannot resolve otherwise, so neither does the emulator."""
        user = store.user_by_name(username)
        if user is not None:
            self.found["users"].setdefault(str(user["id"]), user)
        elif (error := store.recorded_error(parameter, username)) is not None:
            self.fail(error)


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
            inc.mention(store, str(m.get("username", "")), "entities.mentions.username")
    if "entities.note.mentions.username" in exp:
        note_entities = (tweet.get("note_tweet") or {}).get("entities") or {}
        for m in note_entities.get("mentions", []):
            inc.mention(store, str(m.get("username", "")), "entities.note.mentions.username")
    attachments = tweet.get("attachments") or {}
    if "attachments.media_keys" in exp:
        for key in attachments.get("media_keys", []):
            inc.add(store, "media", str(key), "attachments.media_keys")
    if "attachments.media_source_tweet" in exp:
        for key in attachments.get("media_source_tweet_id", []):
            inc.add(store, "tweets", str(key), "attachments.media_source_tweet")
    article = tweet.get("article") or {}
    if "article.cover_media" in exp and article.get("cover_media"):
        inc.add(store, "media", str(article["cover_media"]), "article.cover_media")
    if "article.media_entities" in exp:
        for key in article.get("media_entities") or []:
            inc.add(store, "media", str(key), "article.media_entities")
    if "attachments.poll_ids" in exp:
        for key in attachments.get("poll_ids", []):
            inc.add(store, "polls", str(key), "attachments.poll_ids")
    place = (tweet.get("geo") or {}).get("place_id")
    if "geo.place_id" in exp and place:
        inc.add(store, "places", str(place), "geo.place_id")
    if "edit_history_tweet_ids" in exp:
        # every version, the tweet itself too, as X sends them (see the recorded edited.jsonl)
        for key in tweet.get("edit_history_tweet_ids", []):
            inc.add(store, "tweets", str(key), "edit_history_tweet_ids")


def _expand_refs(store: TweetStore, sel: RequestedFields, tweet: Json, inc: _Includes) -> None:
    exp = sel.expansions
    for ref in tweet.get("referenced_tweets") or []:
        key = str(ref["id"])
        if "referenced_tweets.id" in exp:
            ref_tweet = inc.add(store, "tweets", key, "referenced_tweets.id")
        else:
            ref_tweet = store.get("tweets", key)
        if ref_tweet is None:
            continue
        author = ref_tweet.get("author_id")
        if "referenced_tweets.id.author_id" in exp and author:
            inc.add(store, "users", str(author), "referenced_tweets.id.author_id")
        if "referenced_tweets.id.attachments.media_keys" in exp:
            # recordings rarely hold a referenced tweet's media: include what there is, and
            # claim no error for media X has but the recording lacks
            for media in (ref_tweet.get("attachments") or {}).get("media_keys", []):
                found = store.get("media", str(media))
                if found is not None:
                    inc.found["media"].setdefault(str(media), found)


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
