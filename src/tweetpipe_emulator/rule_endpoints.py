"""Filtered-stream rules: GET/POST /2/tweets/search/stream/rules."""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tweetpipe.collect.synthetic import snowflake
from tweetpipe_emulator.problems import ApiError, bad_param, invalid_request
from tweetpipe_emulator.query import Node, QueryError, Subject, parse_query
from tweetpipe_emulator.store import Json
from tweetpipe_emulator.validation import ascii_int, boolean, check_query, is_id

RULES_CAP: Json = {
    "title": "RulesCapExceeded",
    "detail": "Rule creation request exceeds account's current rule limits. Please remove or "
    "update existing rules to proceed.",
    "type": "https://api.twitter.com/2/problems/rule-cap",
    "status": 403,
}


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


def _string_list(spec: Mapping[str, Any], key: str, what: str) -> list[str]:
    """`spec[key]` (absent: []) if it is a list of strings, else X's 400 for the body."""
    items = spec.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise _bad_body(f"$.delete.{key}: must be an array of {what}")
    return items


def _page_token(params: Mapping[str, str]) -> int:
    raw = params.get("pagination_token")
    if raw is None:
        return 0
    if re.fullmatch(r"[0-9a-f]{16}", raw) is None:
        raise bad_param("pagination_token", raw,
                        f"The `pagination_token` query parameter value [{raw}] is not valid")
    return int(raw, 16)


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
    max_rules: int = 1000  # X Pro; EmulatorState sets the options' access-level limits
    rule_max_length: int = 1024
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> list[StoredRule]:
        with self._lock:
            return list(self.rules.values())

    def matching(self, subject: Subject) -> list[StoredRule]:
        return [r for r in self.snapshot() if r.node.match(subject)]

    def lookup(self, params: Mapping[str, str]) -> Json:
        ids = set(params["ids"].split(",")) if "ids" in params else set()
        for rule_id in sorted(ids):
            if not is_id(rule_id):
                msg = f"The `ids` query parameter value [{rule_id}] is not valid"
                raise bad_param("ids", params["ids"], msg)
        raw = params.get("max_results", "1000")
        size = ascii_int(raw)
        if size is None or not 1 <= size <= 1000:
            msg = f"The `max_results` query parameter value [{raw}] is not between 1 and 1000"
            raise bad_param("max_results", raw, msg)
        start = _page_token(params)
        matching = [r.as_json() for r in self.snapshot() if not ids or r.id in ids]
        rules = matching[start : start + size]
        meta: Json = {"sent": sent_now(), "result_count": len(rules)}
        if start + size < len(matching):
            meta["next_token"] = f"{start + size:016x}"
        return {"data": rules, "meta": meta} if rules else {"meta": meta}

    def update(self, params: Mapping[str, str], body: Any) -> Json:
        dry = boolean(params, "dry_run")
        if boolean(params, "delete_all"):
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
            if tag is not None and not isinstance(tag, str):
                raise _bad_body("a rule's `tag` must be a string")
            if value in seen:
                dup = _rule_error(value, "DuplicateRule", "duplicate-rules", id=seen[value])
                errors.append(dup)
                continue
            why = check_query(value, self.rule_max_length, "rule")
            try:
                if why:
                    raise QueryError(why)
                node = parse_query(value)
            except (QueryError, RecursionError) as exc:
                detail = exc.message if isinstance(exc, QueryError) else "nested too deeply"
                bad = _rule_error(value, "UnprocessableEntity", "invalid-rules", details=[detail])
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
            if len(self.rules) + len(created) > self.max_rules:
                raise ApiError(403, RULES_CAP)
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
        ids = set(_string_list(spec, "ids", "rule ids"))
        values = set(_string_list(spec, "values", "rule values"))
        if not all(is_id(i) for i in ids):
            raise _bad_body("$.delete.ids: each rule id must match ^[0-9]{1,19}$")
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
