"""Rules endpoints: add, duplicates, invalid, dry_run, delete by ids/values, delete_all."""

from __future__ import annotations

from typing import Any

import httpx

RULES = "/2/tweets/search/stream/rules"


def post(client: httpx.Client, body: Any, **params: str) -> dict[str, Any]:
    r = client.post(RULES, json=body, params=params)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def current(client: httpx.Client) -> dict[str, str]:
    body = client.get(RULES).json()
    assert body["meta"]["result_count"] == len(body.get("data", []))
    return {r["value"]: r["id"] for r in body.get("data", [])}


def test_rules_round_trip(client: httpx.Client) -> None:
    post(client, None, delete_all="true")
    assert client.get(RULES).json()["meta"]["result_count"] == 0
    assert "data" not in client.get(RULES).json()

    added = post(client, {"add": [{"value": "cat has:media", "tag": "cats"}, {"value": "dog"}]})
    assert added["meta"]["summary"] == {"created": 2, "not_created": 0, "valid": 2, "invalid": 0}
    assert "sent" in added["meta"]
    assert [r["value"] for r in added["data"]] == ["cat has:media", "dog"]
    assert added["data"][0]["tag"] == "cats" and "tag" not in added["data"][1]
    assert all(r["id"].isdigit() for r in added["data"])
    assert current(client) == {r["value"]: r["id"] for r in added["data"]}

    dup = post(client, {"add": [{"value": "dog"}]})
    assert dup["meta"]["summary"] == {"created": 0, "not_created": 1, "valid": 0, "invalid": 1}
    assert dup["errors"][0]["title"] == "DuplicateRule"
    assert dup["errors"][0]["id"] == current(client)["dog"]
    assert "data" not in dup

    only = client.get(RULES, params={"ids": added["data"][0]["id"]}).json()
    assert [r["value"] for r in only["data"]] == ["cat has:media"]

    deleted = post(client, {"delete": {"ids": [added["data"][0]["id"], "123"]}})
    assert deleted["meta"]["summary"] == {"deleted": 1, "not_deleted": 1}
    assert list(current(client)) == ["dog"]

    by_value = post(client, {"delete": {"values": ["dog"]}})
    assert by_value["meta"]["summary"] == {"deleted": 1, "not_deleted": 0}
    assert current(client) == {}


def test_invalid_rule_rejects_the_whole_batch(client: httpx.Client) -> None:
    post(client, None, delete_all="true")
    body = post(client, {"add": [{"value": "ok"}, {"value": "(unbalanced"}]})
    assert body["meta"]["summary"] == {"created": 0, "not_created": 2, "valid": 1, "invalid": 1}
    assert body["errors"][0]["value"] == "(unbalanced"
    assert current(client) == {}


def test_dry_run_changes_nothing(client: httpx.Client) -> None:
    post(client, None, delete_all="true")
    dry = post(client, {"add": [{"value": "bird"}]}, dry_run="true")
    assert dry["meta"]["summary"]["created"] == 1 and dry["data"][0]["value"] == "bird"
    assert current(client) == {}
    post(client, {"add": [{"value": "bird"}]})
    gone = post(client, None, delete_all="true", dry_run="true")
    assert gone["meta"]["summary"] == {"deleted": 1, "not_deleted": 0}
    assert list(current(client)) == ["bird"]
    post(client, None, delete_all="true")
    assert current(client) == {}


def test_bad_bodies_are_400(client: httpx.Client) -> None:
    assert client.post(RULES, json={"nope": 1}).status_code == 400
    assert client.post(RULES, content=b"{not json").status_code == 400
    assert client.post(RULES, json={"add": []}).status_code == 400
