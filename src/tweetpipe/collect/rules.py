"""Filtered-stream rules: list, add, delete (by id or all), each with a dry-run option."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tweetpipe.errors import XApiError
from tweetpipe.xapi import RULES, XClient

Json = dict[str, Any]


@dataclass(frozen=True)
class Rule:
    id: str
    value: str
    tag: str | None = None

    @classmethod
    def from_json(cls, data: Json) -> Rule:
        return cls(str(data["id"]), str(data["value"]), data.get("tag"))


@dataclass(frozen=True)
class RulesResult:
    """What a change did (or would do, with dry_run)."""

    rules: tuple[Rule, ...] = ()
    summary: Json | None = None
    errors: tuple[Json, ...] = ()


def list_rules(client: XClient) -> list[Rule]:
    body = client.get(RULES, fields=False)
    return [Rule.from_json(r) for r in body.get("data") or []]


def add_rules(client: XClient, rules: Sequence[tuple[str, str | None]], *,
              dry_run: bool = False) -> RulesResult:
    """Add (value, tag) rules; X adds a batch all-or-nothing and names the bad ones."""
    items = [{"value": v, **({"tag": t} if t else {})} for v, t in rules]
    body = client.post(RULES, _params(dry_run), {"add": items})
    result = _result(body)
    if result.errors and not result.rules:
        first = result.errors[0]
        reason = first.get("title") or first.get("detail") or "rejected"
        details = "; ".join(str(d) for d in first.get("details") or [])
        raise XApiError(f"rule {first.get('value')!r} was not added: {reason}"
                        + (f" ({details})" if details else ""), status=400)
    return result


def delete_rules(client: XClient, ids: Sequence[str], *, dry_run: bool = False) -> RulesResult:
    return _result(client.post(RULES, _params(dry_run), {"delete": {"ids": list(ids)}}))


def delete_all(client: XClient, *, dry_run: bool = False) -> RulesResult:
    ids = [r.id for r in list_rules(client)]
    if not ids:
        return RulesResult(summary={"deleted": 0, "not_deleted": 0})
    return delete_rules(client, ids, dry_run=dry_run)


def _params(dry_run: bool) -> dict[str, str]:
    return {"dry_run": "true"} if dry_run else {}


def _result(body: Json) -> RulesResult:
    meta = body.get("meta") or {}
    return RulesResult(tuple(Rule.from_json(r) for r in body.get("data") or []),
                       meta.get("summary"), tuple(body.get("errors") or []))
