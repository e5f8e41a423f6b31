"""Query operators as X documents them, over HTTP, on the bundled real recordings.

Each expected set is computed here straight from the recorded JSON (not through the emulator's
matcher), so a matcher that drifts from X's documented semantics fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import httpx
import orjson
import pytest
from emukit import all_files, validate_problem

#: full-archive search: the same operators over every recorded tweet (recent search sees only
#: each recording's last 7 days)
ARCHIVE = "/2/tweets/search/all"
Json = dict[str, Any]


@cache
def recorded() -> tuple[dict[str, Json], dict[str, Json], dict[str, Json], dict[str, Json]]:
    """(primary tweets, included tweets, users, places) of every bundled file, by id."""
    primary: dict[str, Json] = {}
    tweets: dict[str, Json] = {}
    users: dict[str, Json] = {}
    places: dict[str, Json] = {}
    for path in all_files():
        for raw in path.read_bytes().splitlines():
            try:
                msg = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            data = msg["data"] if isinstance(msg["data"], list) else [msg["data"]]
            inc = msg.get("includes") or {}
            tweets.update((t["id"], t) for t in inc.get("tweets", []))
            users.update((u["id"], u) for u in inc.get("users", []))
            places.update((p["id"], p) for p in inc.get("places", []))
            for t in data:
                primary.setdefault(t["id"], t)
    return primary, tweets, users, places


def tweets() -> Iterator[Json]:
    yield from recorded()[0].values()


def retweeted(t: Json) -> list[Json]:
    return [recorded()[1][ref["id"]] for ref in t.get("referenced_tweets", [])
            if ref["type"] == "retweeted" and ref["id"] in recorded()[1]]


def url_strings(t: Json) -> list[str]:
    """The URLs X matches keywords on: a retweet's own and the original's."""
    return [u[k] for x in (t, *retweeted(t)) for u in (x.get("entities") or {}).get("urls", [])
            for k in ("url", "expanded_url", "unwound_url") if u.get(k)]


def full_text(t: Json) -> str:
    """The text X matches keywords on: a retweet's own text and the original's full text."""
    return "\n".join(x["text"] for x in (t, *retweeted(t)))


def ascii_tokens(text: str) -> set[str]:
    return set(re.split(r"[^0-9a-z]+", text.lower())) - {""}


def search_ids(client: httpx.Client, query: str) -> set[str]:
    found: set[str] = set()
    token: str | None = None
    while True:
        params = {"query": query, "max_results": 100, **({"next_token": token} if token else {})}
        r = client.get(ARCHIVE, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        found |= {t["id"] for t in body.get("data", [])}
        token = body["meta"].get("next_token")
        if not token:
            return found


def test_keywords_also_match_expanded_urls(client: httpx.Client) -> None:
    for word in ("kakao", "grossbritannien", "youtu"):
        in_text = {t["id"] for t in tweets() if word in ascii_tokens(full_text(t))}
        in_urls = {t["id"] for t in tweets()
                   if any(word in ascii_tokens(u) for u in url_strings(t))}
        assert in_urls - in_text, word  # some match only through their URLs
        assert search_ids(client, word) == in_text | in_urls, word


def test_mention_operator_matches_mentions_not_the_author(client: httpx.Client) -> None:
    primary, _, users, _ = recorded()
    for name in ("wongmjane", "leeseunggi", "itsliveofficial"):
        mentioning = {t["id"] for t in tweets() if name in {
            m["username"].lower() for m in (t.get("entities") or {}).get("mentions", [])}}
        assert mentioning, name
        assert search_ids(client, f"@{name}") == mentioning
    author = next(u["id"] for u in users.values() if u["username"] == "wongmjane")
    own = {t["id"] for t in primary.values() if t.get("author_id") == author}
    assert own and not own & search_ids(client, "@wongmjane")  # her own tweet, no mention


def test_url_operator_is_a_tokenized_match(client: httpx.Client) -> None:
    for value in ("tw", "status", "co", "kakao", '"youtu.be"', '"https://t.co"'):
        wanted = tuple(re.split(r"[^0-9a-z]+", value.strip('"').lower()))
        wanted = tuple(w for w in wanted if w)
        expected = set()
        for t in tweets():
            for url in url_strings(t):
                toks = [w for w in re.split(r"[^0-9a-z]+", url.lower()) if w]
                n = len(wanted)
                if any(tuple(toks[i:i + n]) == wanted for i in range(len(toks) - n + 1)):
                    expected.add(t["id"])
        assert search_ids(client, f"url:{value}") == expected, value
    # "tw" is inside most URLs (twitter.com, t.co/Tw...) but a whole token of few
    substring = {t["id"] for t in tweets() if any("tw" in u.lower() for u in url_strings(t))}
    assert len(substring) > 200 and len(search_ids(client, "url:tw")) < len(substring) // 5


@pytest.mark.parametrize("emoji", ["💙", "🔥", "😂", "🏻", "🇬🇧", "▶"])
def test_emoji_query_returns_the_tweets_containing_it(client: httpx.Client, emoji: str) -> None:
    expected = {t["id"] for t in tweets() if emoji in full_text(t)}
    assert expected
    assert search_ids(client, emoji) == expected
    assert search_ids(client, f'"{emoji}"') == expected


def test_emoji_with_skin_tone_and_without(client: httpx.Client) -> None:
    toned = {t["id"] for t in tweets() if "👏🏻" in full_text(t)}
    any_tone = {t["id"] for t in tweets() if "👏" in full_text(t)}
    assert toned and toned <= any_tone
    assert search_ids(client, "👏🏻") == toned
    assert search_ids(client, "👏") == any_tone


def test_has_video_link_and_its_alias_videos(client: httpx.Client) -> None:
    """X's operator list (docs.x.com, search "Operators") documents `has:videos` as the alias
    of `has:video_link`, so both are accepted and match the same tweets."""
    media = {m["media_key"]: m for p in all_files() for raw in p.read_bytes().splitlines()
             if raw.startswith(b"{") and raw.endswith(b"}")
             for m in orjson.loads(raw).get("includes", {}).get("media", [])}
    with_video = {t["id"] for t in tweets()
                  if any(media.get(k, {}).get("type") == "video"
                         for k in (t.get("attachments") or {}).get("media_keys", []))}
    query = "(t OR co OR the OR a) has:video_link"
    everything = search_ids(client, "t OR co OR the OR a")
    assert with_video & everything
    assert search_ids(client, query) == with_video & everything
    assert search_ids(client, query.replace("video_link", "videos")) == with_video & everything


def test_place_operators(client: httpx.Client) -> None:
    _, _, _, places = recorded()
    tagged = {t["id"]: places[t["geo"]["place_id"]] for t in tweets()
              if (t.get("geo") or {}).get("place_id") in places}
    india = {i for i, p in tagged.items() if p["country_code"] == "IN"}
    assert india
    assert search_ids(client, "(t OR co OR the OR a OR reliance) place_country:IN") <= india
    assert search_ids(client, "place_country:IN") == india  # standalone, as X documents
    berlin = {i for i, p in tagged.items() if p["name"] == "Berlin"}
    assert berlin and search_ids(client, "place:berlin") == berlin
    place_id = tagged[next(iter(berlin))]["id"]
    assert search_ids(client, f"place:{place_id}") == berlin
    chicago = {i for i, p in tagged.items() if p["full_name"] == "Chicago, IL"}
    assert chicago and search_ids(client, 'place:"chicago, il"') == chicago


def test_is_verified_retweets_of_and_nullcast(client: httpx.Client) -> None:
    primary, included, users, _ = recorded()
    brexit = search_ids(client, "brexit")
    verified = {i for i in brexit if users.get(primary[i].get("author_id", ""), {}).get("verified")}
    assert verified and search_ids(client, "brexit is:verified") == verified
    assert search_ids(client, "brexit -is:nullcast") == brexit  # no ads in the recordings
    name = "koreatimescokr"
    rts = set()
    for t in tweets():
        for ref in t.get("referenced_tweets", []):
            original = included.get(ref["id"], {})
            author = users.get(original.get("author_id", ""), {})
            if ref["type"] == "retweeted" and author.get("username", "").lower() == name:
                rts.add(t["id"])
    assert rts and search_ids(client, f"retweets_of:{name}") == rts


@pytest.mark.parametrize(
    ("query", "position"),
    [("#", 1), ("@", 1), ('""', 1), ("brexit -", 8), ("brexit or corbyn", 8),
     ("brexit AND corbyn", 8), ("has:videos", 1), ("brexit is:nullcast", 8), ("(brexit", 1)],
)
def test_malformed_queries_are_400_problems(client: httpx.Client, query: str,
                                            position: int) -> None:
    r = client.get(ARCHIVE, params={"query": query})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    validate_problem(body)
    error = body["errors"][0]
    assert error["parameters"] == {"query": [query]}
    assert error["message"].startswith("There were errors processing your request: ")
    assert error["message"].endswith(f"(at position {position})")
