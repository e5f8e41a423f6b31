"""X search/filter query language: parse once, match many tweets.

What X documents (docs.x.com, "Search Operators" and "Build a query"), and what this does:

* keyword: a tokenized match on the body, the full text of a retweeted or long post, and the
  post's URLs (`url`, `expanded_url`, `unwound_url`). A retweet also matches on the retweeted
  post's entities (hashtags, mentions, cashtags, URLs), as X's recorded results show. Tokens
  split on punctuation, symbols and separators; an emoji is a token of its own (skin-tone
  modifiers too), so `✊` matches `✊🏾`.
* "exact phrase": the tokens, in order, in the body (not the URLs).
* `#tag`, `$tag`, `@user` (a mention entity: not the author's own posts), `from:`, `to:`,
  `retweets_of:`, `url:` (a tokenized match on one URL: `url:drop` is not `dropbox.com`),
  `conversation_id:`, `in_reply_to_tweet_id:`, `retweets_of_tweet_id:`,
  `quotes_of_tweet_id:` (and their `_status_id:` aliases), `context:domain.entity`,
  `place:` (a place id, or words of its name), `place_country:`.
* conjunction-required: `is:retweet|reply|quote|verified`, `-is:nullcast` (negated only),
  `has:hashtags|cashtags|links|mentions|media|images|video_link|geo` (aliases `has:media_link`,
  `has:videos`), `lang:`.
* `OR`, implicit AND (binds tighter than OR), `-` negation, parentheses. A query needs at least
  one positive standalone term. `and` / `or` (any case but `OR`) outside quotes are ambiguous
  and rejected as X rejects them ("Ambiguous use of and as a keyword ..."), as are a lone `#`,
  `@` or `$`, an empty `""`, a dangling `-` and queries over the endpoint's length limit.

Errors read like X's: "<reason> (at position N)", N counting from 1.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tweetpipe.errors import TweetpipeError

Lookup = Callable[[str, str], Mapping[str, Any] | None]
"""`lookup(kind, key)`: an object of the store (`users`, `tweets`, `places`, `media`) or None."""

_LEX = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<neg>-)"
    r'|(?P<quote>"[^"]*")|(?P<word>[^\s()"]+(?:"[^"]*")?))'
)
#: dropped before tokenizing: variation selectors and the zero-width joiner of emoji sequences.
_IGNORED = dict.fromkeys(map(ord, "\ufe0e\ufe0f\u200d"))
_SKIN_TONES = ("\U0001f3fb", "\U0001f3ff")
STANDALONE = frozenset({
    "kw", "phrase", "#", "$", "@", "from", "to", "url", "conversation_id", "retweets_of",
    "in_reply_to_tweet_id", "retweets_of_tweet_id", "quotes_of_tweet_id", "context", "place",
    "place_country",
})
ALIASES = {
    "in_reply_to_status_id": "in_reply_to_tweet_id",
    "retweets_of_status_id": "retweets_of_tweet_id",
    "quotes_of_status_id": "quotes_of_tweet_id",
}
IS_VALUES = frozenset({"retweet", "reply", "quote", "verified", "nullcast"})
HAS_VALUES = {
    "hashtags": "hashtags", "cashtags": "cashtags", "links": "links", "mentions": "mentions",
    "media": "media", "media_link": "media", "images": "images", "video_link": "video_link",
    "videos": "video_link", "geo": "geo",
}
NULLCAST_SOURCES = frozenset({"twitter for advertisers", "twitter for advertisers (legacy)"})
VERIFIED_TYPES = frozenset({"blue", "business", "government"})


class QueryError(TweetpipeError):
    """The query/rule is not valid filter language; the message says why."""


@dataclass(frozen=True)
class Subject:
    """What the matcher looks at, precomputed once per tweet."""

    tokens: tuple[str, ...]  # body, then URLs; "" separates parts (no match across them)
    body: tuple[str, ...]  # body only, for "exact phrases"
    lang: str
    hashtags: frozenset[str]
    cashtags: frozenset[str]
    mentions: frozenset[str]
    authors: frozenset[str]  # lower-cased username and id
    to: frozenset[str]
    ref_types: frozenset[str]
    refs: frozenset[tuple[str, str]]  # (type, tweet id) of referenced_tweets
    retweets_of: frozenset[str]  # lower-cased username and id of the retweeted author
    has: frozenset[str]
    urls: tuple[tuple[str, ...], ...]  # the tokens of each url / expanded_url / unwound_url
    conversation_id: str
    verified: bool
    source: str
    place_ids: frozenset[str]
    place_names: tuple[tuple[str, ...], ...]
    place_country: str
    context: frozenset[str]  # "domain_id.entity_id"


WORD, OWN_TOKEN, SEPARATOR = 0, 1, 2


@functools.lru_cache(maxsize=1 << 16)
def _char_class(ch: str) -> int:
    """A (lower-cased) character's part in a token, cached: tokenizing is the emulator's hot path
    (every synthetic tweet, every rule match), and Unicode categories are costly to look up."""
    if ch == "_" or unicodedata.category(ch)[0] in "LNM":
        return WORD
    if unicodedata.category(ch) == "So" or _SKIN_TONES[0] <= ch <= _SKIN_TONES[1]:
        return OWN_TOKEN
    return SEPARATOR


def words(text: str) -> tuple[str, ...]:
    """X's tokenization: words split on punctuation, symbols and separators; each emoji (and
    skin-tone modifier) is a token of its own. Lower-cased."""
    out: list[str] = []
    start = -1
    text = text.lower().translate(_IGNORED)
    for i, ch in enumerate(text):
        kind = _char_class(ch)
        if kind == WORD:
            if start < 0:
                start = i
            continue
        if start >= 0:
            out.append(text[start:i])
            start = -1
        if kind == OWN_TOKEN:
            out.append(ch)
    if start >= 0:
        out.append(text[start:])
    return tuple(out)


def _tags(entity_sets: Iterable[Mapping[str, Any]], key: str, field: str) -> frozenset[str]:
    return frozenset(str(e.get(field, "")).lower() for ent in entity_sets for e in ent.get(key, []))


def _join(parts: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    out: list[str] = []
    for part in parts:
        if part:
            out.extend((*part, ""))
    return tuple(out[:-1])


def _ids(user_id: str, lookup: Lookup) -> frozenset[str]:
    if not user_id:
        return frozenset()
    user = lookup("users", user_id) or {}
    return frozenset(x.lower() for x in (user_id, str(user.get("username", ""))) if x)


def _media_has(keys: list[Any], lookup: Lookup) -> tuple[bool, bool]:
    """(images, videos): by the media object's type, else by the media key's prefix."""
    images = videos = False
    for key in map(str, keys):
        kind = str((lookup("media", key) or {}).get("type", ""))
        images = images or kind == "photo" or (not kind and key.startswith("3_"))
        videos = videos or kind == "video" or (not kind and key.startswith(("7_", "13_")))
    return images, videos


def subject_of(tweet: Mapping[str, Any], lookup: Lookup) -> Subject:
    """Build the matcher's view of `tweet`; `lookup(kind, key)` finds users, tweets, places.

    Like X, a retweet also matches on the full text of the retweeted tweet, and a long post on
    its full `note_tweet` text.
    """
    note: Mapping[str, Any] = tweet.get("note_tweet") or {}
    author_id = str(tweet.get("author_id", ""))
    refs = frozenset(
        (str(r.get("type")), str(r.get("id"))) for r in tweet.get("referenced_tweets") or []
    )
    retweeted: Mapping[str, Any] = {}
    for kind, ref_id in refs:
        if kind == "retweeted":
            retweeted = lookup("tweets", ref_id) or {}
    # a retweet's own entities cover its truncated "RT @x: ..." text only; X also matches the
    # original's (a #brexit page of recorded X results has retweets tagged only there)
    entity_sets: list[Mapping[str, Any]] = [
        e for t in (tweet, retweeted)
        for e in (t.get("entities") or {}, (t.get("note_tweet") or {}).get("entities") or {})
    ]
    url_strings = [
        str(u[k]) for e in entity_sets for u in e.get("urls", [])
        for k in ("url", "expanded_url", "unwound_url") if u.get(k)
    ]
    urls = tuple(words(u) for u in url_strings)
    body = _join(words(str(t)) for t in (
        tweet.get("text", ""), note.get("text", ""), retweeted.get("text", ""),
        (retweeted.get("note_tweet") or {}).get("text", ""),
    ))
    attachments = tweet.get("attachments") or {}
    images, videos = _media_has(attachments.get("media_keys") or [], lookup)
    has = {
        "media": bool(attachments.get("media_keys")),
        "images": images,
        "video_link": videos,
        "links": bool(url_strings) or bool(attachments.get("media_keys")),
        "hashtags": any(e.get("hashtags") for e in entity_sets),
        "mentions": any(e.get("mentions") for e in entity_sets),
        "cashtags": any(e.get("cashtags") for e in entity_sets),
        "geo": bool(tweet.get("geo")),
    }
    author = lookup("users", author_id) or {}
    place_id = str((tweet.get("geo") or {}).get("place_id") or "")
    place = (lookup("places", place_id) if place_id else None) or {}
    context = frozenset(
        f"{(a.get('domain') or {}).get('id')}.{(a.get('entity') or {}).get('id')}"
        for a in tweet.get("context_annotations") or []
    )
    return Subject(
        tokens=_join((body, *urls)),
        body=body,
        lang=str(tweet.get("lang", "")).lower(),
        hashtags=_tags(entity_sets, "hashtags", "tag"),
        cashtags=_tags(entity_sets, "cashtags", "tag"),
        mentions=_tags(entity_sets, "mentions", "username"),
        authors=_ids(author_id, lookup),
        to=_ids(str(tweet.get("in_reply_to_user_id", "")), lookup),
        ref_types=frozenset(kind for kind, _ in refs),
        refs=refs,
        retweets_of=_ids(str(retweeted.get("author_id", "")), lookup),
        has=frozenset(k for k, v in has.items() if v),
        urls=urls,
        conversation_id=str(tweet.get("conversation_id", "")),
        verified=author.get("verified") is True
        or str(author.get("verified_type", "")).lower() in VERIFIED_TYPES,
        source=str(tweet.get("source", "")).lower(),
        place_ids=frozenset({place_id} - {""}),
        place_names=tuple(words(str(place[k])) for k in ("name", "full_name") if place.get(k)),
        place_country=str(place.get("country_code", "")).lower(),
        context=context,
    )


def _contains(tokens: tuple[str, ...], seq: tuple[str, ...]) -> bool:
    n = len(seq)
    if n == 0:
        return False
    if n == 1:
        return seq[0] in tokens
    return any(tokens[i : i + n] == seq for i in range(len(tokens) - n + 1))


def _place(s: Subject, v: tuple[str, tuple[str, ...]]) -> bool:
    raw, tokens = v
    return raw in s.place_ids or any(_contains(name, tokens) for name in s.place_names)


_IS: dict[str, Callable[[Subject], bool]] = {
    "retweet": lambda s: "retweeted" in s.ref_types,
    "reply": lambda s: "replied_to" in s.ref_types,
    "quote": lambda s: "quoted" in s.ref_types,
    "verified": lambda s: s.verified,
    "nullcast": lambda s: s.source in NULLCAST_SOURCES,
}
_PREDICATES: dict[str, Callable[[Subject, Any], bool]] = {
    "kw": lambda s, v: _contains(s.tokens, v),
    "phrase": lambda s, v: _contains(s.body, v),
    "#": lambda s, v: v in s.hashtags,
    "$": lambda s, v: v in s.cashtags,
    "@": lambda s, v: v in s.mentions,
    "from": lambda s, v: v in s.authors,
    "to": lambda s, v: v in s.to,
    "retweets_of": lambda s, v: v in s.retweets_of,
    "lang": lambda s, v: s.lang == v,
    "is": lambda s, v: _IS[v](s),
    "has": lambda s, v: v in s.has,
    "url": lambda s, v: any(_contains(u, v) for u in s.urls),
    "conversation_id": lambda s, v: s.conversation_id == v,
    "in_reply_to_tweet_id": lambda s, v: ("replied_to", v) in s.refs,
    "retweets_of_tweet_id": lambda s, v: ("retweeted", v) in s.refs,
    "quotes_of_tweet_id": lambda s, v: ("quoted", v) in s.refs,
    "context": lambda s, v: v in s.context,
    "place": _place,
    "place_country": lambda s, v: s.place_country == v,
    "true": lambda s, v: True,
}


@dataclass(frozen=True)
class Node:
    op: str  # "and", "or", "not" or a predicate kind
    value: Any = None
    children: tuple[Node, ...] = ()

    def match(self, s: Subject) -> bool:
        if self.op == "and":
            return all(c.match(s) for c in self.children)
        if self.op == "or":
            return any(c.match(s) for c in self.children)
        if self.op == "not":
            return not self.children[0].match(s)
        return _PREDICATES[self.op](s, self.value)

    def standalone(self) -> bool:
        if self.op == "and":
            return any(c.standalone() for c in self.children)
        if self.op == "or":
            return all(c.standalone() for c in self.children)
        return self.op in STANDALONE


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int  # 1-based, as X reports positions


def _error(reason: str, pos: int) -> QueryError:
    return QueryError(f"{reason} (at position {pos})")


def _lex(query: str) -> list[_Token]:
    out: list[_Token] = []
    pos, end = 0, len(query.rstrip())
    while pos < end:
        m = _LEX.match(query, pos)
        if m is None or m.end() == pos:
            raise _error("Unbalanced quote: a phrase must end with '\"'", pos + 1)
        kind = m.lastgroup or ""
        out.append(_Token(kind, m.group(kind), m.start(kind) + 1))
        pos = m.end()
    return out


def _operator(op: str, value: str, pos: int, negated: bool) -> Node:
    op = ALIASES.get(op, op)
    quoted = value.startswith('"')
    value = value.strip('"')
    if op not in _PREDICATES or op in ("kw", "phrase", "#", "$", "@", "true"):
        raise _error(f"Reference to invalid operator '{op}'. Operator is not available in "
                     "current product or product packaging", pos)
    if not value.strip():
        raise _error(f"The operator '{op}:' needs a value", pos)
    low = value.lower()
    if op == "is":
        if low not in IS_VALUES:
            raise _error(f"Reference to invalid field '{value}' of operator 'is'", pos)
        if low == "nullcast" and not negated:
            raise _error("The operator 'is:nullcast' must always be negated (-is:nullcast)", pos)
        return Node("is", low)
    if op == "has":
        if low not in HAS_VALUES:
            raise _error(f"Reference to invalid field '{value}' of operator 'has'", pos)
        return Node("has", HAS_VALUES[low])
    if op == "url":
        tokens = words(value)
        if not tokens:
            raise _error(f"Invalid url '{value}' for operator 'url:'", pos)
        return Node("url", tokens)
    if op == "place":
        return Node("place", (low, words(value)))
    return Node(op, low.strip() if quoted else low)


def _term(tok: _Token, negated: bool) -> Node:
    text, pos = tok.text, tok.pos
    if tok.kind == "quote":
        phrase = words(text[1:-1])
        if not phrase:
            raise _error("An exact phrase (\"...\") must contain a word", pos)
        return Node("phrase", phrase)
    if text[0] in "#$@":
        if len(text) == 1 or not words(text[1:]):
            raise _error(f"no viable alternative at input '{text}'", pos)
        return Node(text[0], text[1:].lower())
    if text.lower() in ("or", "and") and text != "OR":
        low = text.lower()
        raise _error(f"Ambiguous use of {low} as a keyword. Use a space to logically join two "
                     f"clauses, or \"{low}\" to find occurrences of {low} in text", pos)
    op, sep, value = text.partition(":")
    if sep and re.fullmatch(r"[a-z_]+", op.lower()) and not value.startswith("//"):
        return _operator(op.lower(), value, pos, negated)
    tokens = words(text)
    return Node("kw", tokens) if tokens else Node("true")


class _Parser:
    def __init__(self, tokens: list[_Token], length: int) -> None:
        self.tokens = tokens
        self.i = 0
        self.end = length + 1

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    @staticmethod
    def is_or(tok: _Token | None) -> bool:
        return tok is not None and tok.kind == "word" and tok.text == "OR"

    def parse_or(self) -> Node:
        parts = [self.parse_and()]
        while self.is_or(self.peek()):
            self.i += 1
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Node("or", children=tuple(parts))

    def parse_and(self) -> Node:
        parts: list[Node] = []
        while (tok := self.peek()) is not None and tok.kind != "rp" and not self.is_or(tok):
            parts.append(self.parse_unary(negated=False))
        if not parts:
            tok = self.peek()
            where = tok.pos if tok else self.end
            found = f"'{tok.text}'" if tok else "the end of the query"
            raise _error(f"A term is missing before {found} (check OR and parentheses)", where)
        return parts[0] if len(parts) == 1 else Node("and", children=tuple(parts))

    def parse_unary(self, negated: bool) -> Node:
        tok = self.tokens[self.i]
        self.i += 1
        if tok.kind == "neg":
            nxt = self.peek()
            if nxt is None or nxt.pos != tok.pos + 1 or nxt.kind in ("rp", "neg"):
                raise _error("The negation '-' must be followed directly by a term", tok.pos)
            return Node("not", children=(self.parse_unary(negated=not negated),))
        if tok.kind == "lp":
            inner = self.parse_or()
            if self.peek() is None or self.tokens[self.i].kind != "rp":
                raise _error("Missing closing parenthesis for '('", tok.pos)
            self.i += 1
            return inner
        return _term(tok, negated)


def parse_query(query: str) -> Node:
    """Parse `query`; raises QueryError for syntax errors and queries without a positive
    standalone term (length and depth limits: `validation.check_query`, before parsing)."""
    if not query.strip():
        raise QueryError("query must not be empty")
    parser = _Parser(_lex(query), len(query))
    node = parser.parse_or()
    if (tok := parser.peek()) is not None:
        raise _error("Unmatched closing parenthesis ')'", tok.pos)
    if not node.standalone():
        raise _error(
            "Rules must contain at least one positive, non-stand-alone operator "
            "(a keyword, phrase, #hashtag, @user, from:, ...)", 1
        )
    return node
