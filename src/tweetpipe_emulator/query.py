"""X search/filter query language: parse once, match many tweets.

Supported: keywords (case-insensitive word match, punctuation splits words), "quoted phrases",
#hashtag, $cashtag, @user (mention or author), from:, to:, lang:, is:retweet|reply|quote,
has:media|links|hashtags|mentions|cashtags|geo|images|videos, url:, conversation_id:,
negation with a leading -, OR, implicit AND (binds tighter than OR), and parentheses.
Like X, a query must contain at least one positive standalone term (is:, has:, lang: alone
are rejected).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tweetpipe.errors import TweetpipeError

_LEX = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<neg>-)(?=[^\s)])"
    r'|(?P<quote>"[^"]*")|(?P<word>[^\s()"]+(?:"[^"]*")?))'
)
_WORD = re.compile(r"\w+")
STANDALONE = frozenset({"kw", "#", "$", "@", "from", "to", "url", "conversation_id"})
IS_VALUES = frozenset({"retweet", "reply", "quote"})
HAS_VALUES = frozenset({"media", "links", "hashtags", "mentions", "cashtags", "geo", "images"})
HAS_VALUES |= {"videos"}


class QueryError(TweetpipeError):
    """The query/rule is not valid filter language; the message says why."""


@dataclass(frozen=True)
class Subject:
    """What the matcher looks at, precomputed once per tweet."""

    tokens: tuple[str, ...]
    lang: str
    hashtags: frozenset[str]
    cashtags: frozenset[str]
    mentions: frozenset[str]
    authors: frozenset[str]  # lower-cased username and id
    to: frozenset[str]
    ref_types: frozenset[str]
    has: frozenset[str]
    urls: tuple[str, ...]
    conversation_id: str


def words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.lower()))


def _tags(entities: Mapping[str, Any], key: str, field: str) -> frozenset[str]:
    return frozenset(str(e.get(field, "")).lower() for e in entities.get(key, []))


def subject_of(
    tweet: Mapping[str, Any], username: Callable[[str], str | None], retweeted_text: str = ""
) -> Subject:
    """Build the matcher's view of `tweet`; `username` maps a user id to a username.

    Like X, a retweet also matches on the full text of the retweeted tweet (`retweeted_text`).
    """
    ent: Mapping[str, Any] = tweet.get("entities") or {}
    author_id = str(tweet.get("author_id", ""))
    reply_to = str(tweet.get("in_reply_to_user_id", ""))
    urls = tuple(
        str(u.get(k, "")).lower() for u in ent.get("urls", []) for k in ("url", "expanded_url")
    )
    refs = frozenset(str(r.get("type")) for r in tweet.get("referenced_tweets") or [])
    media = (tweet.get("attachments") or {}).get("media_keys") or []
    has = {
        "media": bool(media),
        "images": any(str(k).startswith("3_") for k in media),
        "videos": any(str(k).startswith(("7_", "13_")) for k in media),
        "links": bool(ent.get("urls")),
        "hashtags": bool(ent.get("hashtags")),
        "mentions": bool(ent.get("mentions")),
        "cashtags": bool(ent.get("cashtags")),
        "geo": bool(tweet.get("geo")),
    }
    return Subject(
        tokens=(*words(str(tweet.get("text", ""))), "", *words(retweeted_text)),
        lang=str(tweet.get("lang", "")).lower(),
        hashtags=_tags(ent, "hashtags", "tag"),
        cashtags=_tags(ent, "cashtags", "tag"),
        mentions=_tags(ent, "mentions", "username"),
        authors=frozenset(x.lower() for x in (author_id, username(author_id) or "") if x),
        to=frozenset(x.lower() for x in (reply_to, username(reply_to) or "") if x),
        ref_types=refs,
        has=frozenset(k for k, v in has.items() if v),
        urls=urls,
        conversation_id=str(tweet.get("conversation_id", "")),
    )


def _contains(tokens: tuple[str, ...], seq: tuple[str, ...]) -> bool:
    n = len(seq)
    if n == 0:
        return False
    return any(tokens[i : i + n] == seq for i in range(len(tokens) - n + 1))


_PREDICATES: dict[str, Callable[[Subject, Any], bool]] = {
    "kw": lambda s, v: _contains(s.tokens, v),
    "#": lambda s, v: v in s.hashtags,
    "$": lambda s, v: v in s.cashtags,
    "@": lambda s, v: v in s.mentions or v in s.authors,
    "from": lambda s, v: v in s.authors,
    "to": lambda s, v: v in s.to,
    "lang": lambda s, v: s.lang == v,
    "is": lambda s, v: (
        {"retweet": "retweeted", "reply": "replied_to", "quote": "quoted"}[v] in s.ref_types
    ),
    "has": lambda s, v: v in s.has,
    "url": lambda s, v: any(v in u for u in s.urls),
    "conversation_id": lambda s, v: s.conversation_id == v,
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


def _lex(query: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos, end = 0, len(query.rstrip())
    while pos < end:
        m = _LEX.match(query, pos)
        if m is None or m.end() == pos:
            raise QueryError(f"cannot parse query at position {pos}: unbalanced quote?")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _term(kind: str, text: str) -> Node:
    if kind == "quote":
        return Node("kw", words(text.strip('"')))
    if text[0] in "#$@" and len(text) > 1:
        return Node(text[0], text[1:].lower())
    op, sep, value = text.partition(":")
    if not sep or op.startswith(("http", "https")):
        return Node("kw", words(text))
    value = value.strip('"').lower()
    if op not in _PREDICATES or op == "kw" or not value:
        raise QueryError(f"Reference to invalid operator '{op}'")
    if (op == "is" and value not in IS_VALUES) or (op == "has" and value not in HAS_VALUES):
        raise QueryError(f"Reference to invalid field '{value}' of operator '{op}'")
    return Node(op, value)


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def parse_or(self) -> Node:
        parts = [self.parse_and()]
        while (tok := self.peek()) is not None and tok == ("word", "OR"):
            self.i += 1
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Node("or", children=tuple(parts))

    def parse_and(self) -> Node:
        parts: list[Node] = []
        while (tok := self.peek()) is not None and tok[0] != "rp" and tok != ("word", "OR"):
            parts.append(self.parse_unary())
        if not parts:
            raise QueryError("empty expression (check OR and parentheses)")
        return parts[0] if len(parts) == 1 else Node("and", children=tuple(parts))

    def parse_unary(self) -> Node:
        kind, text = self.tokens[self.i]
        self.i += 1
        if kind == "neg":
            return Node("not", children=(self.parse_unary(),))
        if kind == "lp":
            inner = self.parse_or()
            if self.peek() is None or self.tokens[self.i][0] != "rp":
                raise QueryError("missing closing parenthesis")
            self.i += 1
            return inner
        return _term(kind, text)


def parse_query(query: str) -> Node:
    """Parse `query`; raises QueryError for syntax errors or queries without a positive term."""
    if not query.strip():
        raise QueryError("query must not be empty")
    parser = _Parser(_lex(query))
    node = parser.parse_or()
    if parser.peek() is not None:
        raise QueryError("unexpected closing parenthesis")
    if not node.standalone():
        raise QueryError(
            "Rules must contain at least one positive, non-stand-alone operator "
            "(a keyword, phrase, #hashtag, @user, from:, ...)"
        )
    return node
