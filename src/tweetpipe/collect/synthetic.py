"""Seeded synthetic tweets: several languages, entities, emoji, replies/quotes/retweets, authors.

Content depends only on the seed; ids are snowflakes of the creation time (strictly increasing)
and `created_at` is the wall clock, so tweets look live.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tweetpipe.collect.records import merge_payload
from tweetpipe.collect.replay import RecordSink, now_iso
from tweetpipe.collect.stats import CollectStats

Json = dict[str, Any]
TWEPOCH_MS = 1288834974657
TWEET_METRICS = (
    "retweet_count", "reply_count", "like_count", "quote_count", "impression_count",
    "bookmark_count",
)


def snowflake(ms: float, seq: int, worker: int = 0) -> int:
    """A Twitter-style id: milliseconds since the Twitter epoch, worker and sequence bits."""
    return ((int(ms) - TWEPOCH_MS) << 22) | ((worker & 0x3FF) << 12) | (seq & 0xFFF)


def _w(words: str) -> list[str]:
    return words.split()


WORDS: dict[str, list[str]] = {
    "en": _w(
        "the data pipeline is running fast today we love open source coffee and rain "
        "music news market weather football election science climate travel"
    ),
    "es": _w(
        "el la datos hoy es muy rápido café lluvia música noticias mercado fútbol "
        "elecciones ciencia clima viaje"
    ),
    "fr": _w(
        "le la les données aujourd'hui très rapide café pluie musique marché élection "
        "science climat voyage"
    ),
    "de": _w(
        "der die das daten heute sehr schnell kaffee regen musik nachrichten markt wahl "
        "wissenschaft klima reise"
    ),
    "pt": _w(
        "o a dados hoje muito rápido café chuva música notícias mercado futebol eleição "
        "ciência clima viagem"
    ),
    "ja": _w("今日 データ とても 速い コーヒー 雨 音楽 ニュース 市場 天気 選挙 科学"),
}
LANGS = ("en", "en", "en", "es", "fr", "de", "pt", "ja")
HASHTAGS = ("DataEngineering", "Kafka", "Python", "news", "climate", "WorldCup", "música")
CASHTAGS = ("AAPL", "TSLA", "BTC", "NVDA")
EMOJI = ("🔥", "🚀", "😂", "❤️", "👍", "🌧️", "☕", "🎉")
SOURCES = ("Twitter for iPhone", "Twitter for Android", "Twitter Web App", "TweetDeck")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class _Text:
    parts: list[str] = field(default_factory=list)
    entities: dict[str, list[Json]] = field(default_factory=dict)

    @property
    def pos(self) -> int:
        return sum(len(p) for p in self.parts)

    def add(self, text: str, kind: str | None = None, **entity: str) -> None:
        if self.parts:
            self.parts.append(" ")
        if kind is not None:
            start = self.pos
            self.entities.setdefault(kind, []).append(
                {"start": start, "end": start + len(text), **entity}
            )
        self.parts.append(text)

    def text(self) -> str:
        return "".join(self.parts)


@dataclass
class SyntheticSource:
    """`make()` returns (tweet, includes) for the next tweet; thread-compatible (one caller)."""

    seed: int = 0
    clock: Callable[[], float] = time.time
    users: list[Json] = field(init=False)
    _last_id: int = 0
    _seq: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.users = [self._user(i) for i in range(200)]

    def _user(self, i: int) -> Json:
        rng = self.rng
        name = f"{rng.choice(['Ana', 'Ben', 'Chen', 'Dana', 'Emil', 'Fatma', 'Goro'])} {i}"
        return {
            "id": str(10_000_000 + self.seed * 1000 + i),
            "name": name,
            "username": f"synth_{self.seed}_{i}",
            "created_at": _iso(1_300_000_000 + rng.randrange(300_000_000)),
            "description": " ".join(rng.choices(WORDS["en"], k=rng.randint(0, 12))),
            "verified": rng.random() < 0.05,
            "protected": False,
            "public_metrics": {
                "followers_count": int(rng.paretovariate(1.2) * 50),
                "following_count": rng.randrange(2000),
                "tweet_count": rng.randrange(50_000),
                "listed_count": rng.randrange(100),
            },
        }

    def _next_id(self, ts: float) -> int:
        self._seq += 1
        self._last_id = max(snowflake(ts * 1000, self._seq), self._last_id + 1)
        return self._last_id

    def _body(self, lang: str, text: _Text) -> None:
        rng = self.rng
        for _ in range(rng.randint(4, 30)):
            text.add(rng.choice(WORDS[lang]))
        for _ in range(rng.choices((0, 1, 2, 3), (4, 3, 2, 1))[0]):
            tag = rng.choice(HASHTAGS)
            text.add("#" + tag, "hashtags", tag=tag)
        if rng.random() < 0.1:
            tag = rng.choice(CASHTAGS)
            text.add("$" + tag, "cashtags", tag=tag)
        for _ in range(rng.choices((0, 1, 2), (5, 2, 1))[0]):
            user = rng.choice(self.users)
            text.add("@" + user["username"], "mentions", username=user["username"], id=user["id"])
        if rng.random() < 0.3:
            code = "".join(
                rng.choices("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", k=10)
            )
            url = f"https://t.co/{code}"
            text.add(
                url,
                "urls",
                url=url,
                expanded_url=f"https://example.com/{code}",
                display_url=f"example.com/{code}",
            )
        for _ in range(rng.choices((0, 1, 2), (5, 3, 1))[0]):
            text.add(rng.choice(EMOJI))

    def _tweet(self, ts: float, author: Json, lang: str, text: _Text) -> Json:
        tid = str(self._next_id(ts))
        tweet: Json = {
            "id": tid,
            "text": text.text()[:280],
            "author_id": author["id"],
            "created_at": _iso(ts),
            "lang": lang,
            "conversation_id": tid,
            "edit_history_tweet_ids": [tid],
            "possibly_sensitive": False,
            "reply_settings": "everyone",
            "source": self.rng.choice(SOURCES),
            "public_metrics": {
                k: int(self.rng.expovariate(0.2)) for k in TWEET_METRICS if k != "impression_count"
            },
        }
        entities = {k: [e for e in v if e["end"] <= 280] for k, v in text.entities.items()}
        if any(entities.values()):
            tweet["entities"] = {k: v for k, v in entities.items() if v}
        return tweet

    def _original(self, ts: float) -> tuple[Json, Json]:
        author, lang = self.rng.choice(self.users), self.rng.choice(LANGS)
        text = _Text()
        self._body(lang, text)
        return self._tweet(ts, author, lang, text), author

    def make(self) -> tuple[Json, dict[str, list[Json]]]:
        """The next tweet (newest id so far) and the includes it needs."""
        now = self.clock()
        kind = self.rng.choices(("original", "retweeted", "replied_to", "quoted"), (70, 12, 10, 8))[
            0
        ]
        if kind == "original":
            tweet, author = self._original(now)
            return tweet, {"users": [author]}
        ref, ref_author = self._original(now - self.rng.uniform(60, 86_400))
        author, text = self.rng.choice(self.users), _Text()
        name = ref_author["username"]
        if kind == "retweeted":
            text.add(f"RT @{name}:", "mentions", username=name, id=ref_author["id"])
            text.parts[-1] = f"RT @{name}:"
            text.entities["mentions"][0].update(start=3, end=4 + len(name))
            text.add(ref["text"])
            lang = ref["lang"]
        else:
            lang = self.rng.choice(LANGS)
            if kind == "replied_to":
                text.add("@" + name, "mentions", username=name, id=ref_author["id"])
            self._body(lang, text)
        tweet = self._tweet(now, author, lang, text)
        tweet["referenced_tweets"] = [{"type": kind, "id": ref["id"]}]
        if kind == "replied_to":
            tweet["in_reply_to_user_id"] = ref_author["id"]
            tweet["conversation_id"] = ref["conversation_id"]
        return tweet, {"users": [author, ref_author], "tweets": [ref]}


def synthetic_records(count: int, *, seed: int = 0) -> Iterator[dict[str, Any]]:
    """`count` merged tweet records with distinct ids, the same for the same seed."""
    source = SyntheticSource(seed=seed)
    for _ in range(count):
        tweet, includes = source.make()
        payload = {"data": [tweet], "includes": includes}
        yield from merge_payload(payload, provenance={"source": "synthetic",
                                                      "collected_at": now_iso()})


def produce_synthetic(sink: RecordSink, count: int, *, seed: int = 0,
                      stats: CollectStats | None = None) -> CollectStats:
    """Send `count` synthetic tweets to `sink`; `stats` counts as it goes."""
    stats = stats if stats is not None else CollectStats()
    for record in synthetic_records(count, seed=seed):
        sink.send_record(record)
        stats.payloads += 1
        stats.sent(str(record["id"]))
    return stats
