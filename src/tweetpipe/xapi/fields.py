"""Which fields and expansions to ask for: by default everything X's OpenAPI spec (2.159) lists.

The lists below are the `enum`s of the `tweet.fields`, `user.fields`, `media.fields`,
`place.fields`, `poll.fields` and `expansions` parameters of `/2/tweets/search/recent` in
`tests/emulator/data/x-api-v2-openapi-2.159.json`. Fields that need user-context (OAuth 1.0a /
OAuth 2 user) auth or that only apply to the requesting user are left out of the defaults
(`USER_CONTEXT_FIELDS`): an app-only bearer token is refused for them.

A server that rejects a value (an older API version, an access level without it) names it in a
400's `errors`; `Selection.without` drops it, and the client retries without it, logging a
warning that names what it dropped (the data collected from then on lacks it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

TWEET_FIELDS = (
    "article", "attachments", "author_id", "card_uri", "community_id", "context_annotations",
    "conversation_id", "created_at", "display_text_range", "edit_controls",
    "edit_history_tweet_ids", "entities", "geo", "id", "in_reply_to_user_id", "lang",
    "media_metadata", "non_public_metrics", "note_tweet", "organic_metrics",
    "possibly_sensitive", "promoted_metrics", "public_metrics", "referenced_tweets",
    "reply_settings", "scopes", "source", "suggested_source_links",
    "suggested_source_links_with_counts", "text", "withheld",
)
USER_FIELDS = (
    "affiliation", "confirmed_email", "connection_status", "created_at", "description",
    "entities", "id", "is_identity_verified", "location", "most_recent_tweet_id", "name",
    "parody", "pinned_tweet_id", "profile_banner_url", "profile_image_url", "protected",
    "public_metrics", "receives_your_dm", "subscription", "subscription_type", "url",
    "username", "verified", "verified_followers_count", "verified_type", "withheld",
)
MEDIA_FIELDS = (
    "alt_text", "duration_ms", "height", "media_key", "non_public_metrics", "organic_metrics",
    "preview_image_url", "promoted_metrics", "public_metrics", "type", "url", "variants",
    "width",
)
PLACE_FIELDS = (
    "contained_within", "country", "country_code", "full_name", "geo", "id", "name",
    "place_type",
)
POLL_FIELDS = ("duration_minutes", "end_datetime", "id", "options", "voting_status")
EXPANSIONS = (
    "article.cover_media", "article.media_entities", "attachments.media_keys",
    "attachments.media_source_tweet", "attachments.poll_ids", "author_id",
    "edit_history_tweet_ids", "entities.mentions.username", "geo.place_id",
    "in_reply_to_user_id", "entities.note.mentions.username", "referenced_tweets.id",
    "referenced_tweets.id.attachments.media_keys", "referenced_tweets.id.author_id",
)
#: need user-context auth or describe the requesting user: refused with a bearer token.
USER_CONTEXT_FIELDS = frozenset({
    "non_public_metrics", "organic_metrics", "promoted_metrics", "confirmed_email",
    "connection_status", "receives_your_dm", "subscription",
})
ALL_FIELDS: Mapping[str, tuple[str, ...]] = {
    "tweet.fields": TWEET_FIELDS, "user.fields": USER_FIELDS, "media.fields": MEDIA_FIELDS,
    "place.fields": PLACE_FIELDS, "poll.fields": POLL_FIELDS, "expansions": EXPANSIONS,
}


def _defaults() -> dict[str, tuple[str, ...]]:
    return {k: tuple(v for v in vs if v not in USER_CONTEXT_FIELDS)
            for k, vs in ALL_FIELDS.items()}


@dataclass(frozen=True)
class Selection:
    """Values per parameter (`tweet.fields`, ..., `expansions`); an empty tuple omits it."""

    values: Mapping[str, tuple[str, ...]] = field(default_factory=_defaults)

    @classmethod
    def parse(cls, overrides: Mapping[str, str]) -> Selection:
        """Defaults with some parameters replaced by comma-separated lists (`""` omits one)."""
        values = dict(_defaults())
        for name, text in overrides.items():
            values[name] = tuple(v.strip() for v in text.split(",") if v.strip())
        return cls(values)

    def params(self) -> dict[str, str]:
        return {name: ",".join(vs) for name, vs in self.values.items() if vs}

    def without(self, name: str, rejected: Iterable[str]) -> Selection:
        """A copy without the values the server rejected for parameter `name`."""
        drop = {v.strip() for text in rejected for v in str(text).split(",")}
        kept = tuple(v for v in self.values.get(name, ()) if v not in drop)
        return Selection({**self.values, name: kept})
