"""Filtered-stream rules: GET/POST /2/tweets/search/stream/rules."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tweetpipe.collect.synthetic import snowflake
from tweetpipe_emulator.problems import ApiError, invalid_request
from tweetpipe_emulator.query import Node, QueryError, Subject, parse_query
from tweetpipe_emulator.store import Json


def sent_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class StoredRule:
    id: str
    value: str
    tag: str | None
    node: Node

    def as_json(self) -> Json:
        out: Json = {"id": self.id, "value": self.value}
        if self.tag is not None:
            out["tag"] = self.tag
        return out


def _bad_body(detail: str) -> ApiError:
    return ApiError(400, invalid_request(detail, {}))


def _rule_error(value: str, title: str, kind: str, **extra: Any) -> Json:
    return {
        "value": value,
        **extra,
        "title": title,
        "type": f"https://api.twitter.com/2/problems/{kind}",
    }


@dataclass
class RuleBook:
    """The app's active rule set; thread-safe."""

    rules: dict[str, StoredRule] = field(default_factory=dict)
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> list[StoredRule]:
        with self._lock:
            return list(self.rules.values())

    def matching(self, subject: Subject) -> list[StoredRule]:
        return [r for r in self.snapshot() if r.node.match(subject)]

    def lookup(self, params: Mapping[str, str]) -> Json:
        ids = {i for i in params.get("ids", "").split(",") if i}
        rules = [r.as_json() for r in self.snapshot() if not ids or r.id in ids]
        meta: Json = {"sent": sent_now(), "result_count": len(rules)}
        return {"data": rules, "meta": meta} if rules else {"meta": meta}

    def update(self, params: Mapping[str, str], body: Any) -> Json:
        dry = params.get("dry_run", "false").lower() == "true"
        if params.get("delete_all", "false").lower() == "true":
            return self._delete(set(self.rules), dry)
        if not isinstance(body, dict) or len(body) != 1 or not {"add", "delete"} & set(body):
            raise _bad_body('The request body must be {"add": [...]} or {"delete": {...}}')
        if "add" in body:
            return self._add(body["add"], dry)
        return self._delete_request(body["delete"], dry)

    def _new_id(self) -> str:
        return str(snowflake(time.time() * 1000, next(self._seq)))

    def _check(self, items: list[Any]) -> tuple[list[StoredRule], list[Json]]:
        ok: list[StoredRule] = []
        errors: list[Json] = []
        seen = {r.value: r.id for r in self.rules.values()}
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("value"), str):
                raise _bad_body("each rule to add needs a string `value`")
            value, tag = item["value"], item.get("tag")
            if value in seen:
                dup = _rule_error(value, "DuplicateRule", "duplicate-rules", id=seen[value])
                errors.append(dup)
                continue
            try:
                node = parse_query(value)
            except QueryError as exc:
                bad = _rule_error(
                    value, "UnprocessableEntity", "invalid-rules", details=[exc.message]
                )
                errors.append(bad)
                continue
            rule = StoredRule(self._new_id(), value, tag if isinstance(tag, str) else None, node)
            seen[value] = rule.id
            ok.append(rule)
        return ok, errors

    def _add(self, items: Any, dry: bool) -> Json:
        if not isinstance(items, list) or not items:
            raise _bad_body("`add` must be a non-empty list of rules")
        with self._lock:
            ok, errors = self._check(items)
            created = ok if not errors else []  # X adds a batch all-or-nothing
            if not dry:
                self.rules.update((r.id, r) for r in created)
        summary = {"created": len(created), "not_created": len(items) - len(created)}
        summary |= {"valid": len(ok), "invalid": len(items) - len(ok)}
        out: Json = {"meta": {"sent": sent_now(), "summary": summary}}
        if created:
            out["data"] = [r.as_json() for r in created]
        if errors:
            out["errors"] = errors
        return out

    def _delete_request(self, spec: Any, dry: bool) -> Json:
        if not isinstance(spec, dict) or not ({"ids", "values"} & set(spec)):
            raise _bad_body('`delete` must be {"ids": [...]} or {"values": [...]}')
        ids = {str(i) for i in spec.get("ids", [])}
        values = {str(v) for v in spec.get("values", [])}
        with self._lock:
            ids |= {r.id for r in self.rules.values() if r.value in values}
            missing = len(values - {r.value for r in self.rules.values()})
        return self._delete(ids, dry, extra_missing=missing)

    def _delete(self, ids: set[str], dry: bool, extra_missing: int = 0) -> Json:
        with self._lock:
            found = [i for i in ids if i in self.rules]
            if not dry:
                for rule_id in found:
                    del self.rules[rule_id]
        summary = {"deleted": len(found), "not_deleted": len(ids) - len(found) + extra_missing}
        return {"meta": {"sent": sent_now(), "summary": summary}}
