"""Every request gets an HTTP answer, as from X's front end, over raw sockets.

Each case here once got no answer at all (the connection dropped), an HTML page, or held a
thread: a status line and a JSON body are asserted for each.
"""

from __future__ import annotations

import http.client
import select
import socket
import time
import weakref
from collections.abc import Iterator
from typing import Any, BinaryIO
from urllib.parse import quote, urlsplit

import orjson
import pytest
from emukit import TOKEN, make, validate_problem

from tweetpipe_emulator import Emulator

RECENT = "/2/tweets/search/recent"
RULES = "/2/tweets/search/stream/rules"
AUTH = f"Authorization: Bearer {TOKEN}\r\n"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with make(body_timeout_s=0.5, stream_max_s=2.0) as emulator:  # no test hangs on a stream
        yield emulator


def address(emu: Emulator) -> tuple[str, int]:
    url = urlsplit(emu.url)
    return str(url.hostname), int(url.port or 80)


class Answer:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return orjson.loads(self.body)

    def problem(self, status: int) -> dict[str, Any]:
        """Assert a problem JSON answer with `status` and return it."""
        assert self.status == status, (self.status, self.body)
        assert self.headers["Content-Type"] == "application/problem+json"
        body: dict[str, Any] = self.json()
        validate_problem(body)
        return body


_FILES: weakref.WeakKeyDictionary[socket.socket, BinaryIO] = weakref.WeakKeyDictionary()


def read_answer(sock: socket.socket, method: str = "GET") -> Answer:
    """Read one answer; one buffered reader per socket, so pipelined answers stay intact."""
    fp = _FILES.setdefault(sock, sock.makefile("rb"))
    line = fp.readline(65537)
    if not line:
        raise ConnectionError("the connection closed without an answer")
    version, status, _ = line.decode("latin-1").split(" ", 2)
    assert version in ("HTTP/1.0", "HTTP/1.1"), line
    headers = http.client.parse_headers(fp)
    if method == "HEAD":
        return Answer(int(status), headers, b"")
    body = b""
    if headers.get("Transfer-Encoding") == "chunked":
        while size := int(fp.readline().split(b";")[0], 16):
            body += fp.read(size)
            fp.readline()
        fp.readline()
    else:
        body = fp.read(int(headers.get("Content-Length", "0")))
    return Answer(int(status), headers, body)


def exchange(emu: Emulator, raw: bytes, *, method: str = "GET", wait: float = 5.0) -> Answer:
    """Send `raw` bytes on a fresh connection and read one answer."""
    with socket.create_connection(address(emu), timeout=wait) as sock:
        sock.sendall(raw)
        return read_answer(sock, method)


def request(method: str, target: str, body: bytes = b"", headers: str = AUTH) -> bytes:
    length = f"Content-Length: {len(body)}\r\n" if body else ""
    return (f"{method} {target} HTTP/1.1\r\nHost: x\r\n{headers}{length}\r\n").encode() + body


def invalid_param(answer: Answer) -> dict[str, Any]:
    body = answer.problem(400)
    assert body["type"] == "https://api.twitter.com/2/problems/invalid-request"
    return body


# -- (a) rules delete whose ids/values is not a list --------------------------------------------
@pytest.mark.parametrize(
    "spec",
    [{"ids": "x"}, {"ids": 5}, {"ids": None}, {"values": "dogs"}, {"values": [1]},
     {"ids": [{"id": "1"}]}, {"ids": ["not-an-id"]}],
)
def test_rules_delete_with_a_non_list_answers_400(emu: Emulator, spec: dict[str, Any]) -> None:
    body = orjson.dumps({"delete": spec})
    answer = exchange(emu, request("POST", RULES, body,
                                   AUTH + "Content-Type: application/json\r\n"))
    message = invalid_param(answer)["errors"][0]["message"]
    assert "delete" in message


# -- (b) Content-Length that is not a length ----------------------------------------------------
@pytest.mark.parametrize("length", ["abc", "-5", "+5", "1_0", "5, 6", "¹⁰"])
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_bad_content_length_answers_400(emu: Emulator, length: str, method: str) -> None:
    path = RULES if method == "POST" else RECENT + "?query=brexit"
    raw = (f"{method} {path} HTTP/1.1\r\nHost: x\r\n{AUTH}"
           f"Content-Length: {length}\r\n\r\n{{}}").encode()
    answer = exchange(emu, raw)
    body = answer.problem(400)
    assert "Content-Length" in body["detail"]
    assert answer.headers["Connection"] == "close"


def test_two_different_content_lengths_answer_400(emu: Emulator) -> None:
    raw = (f"POST {RULES} HTTP/1.1\r\nHost: x\r\n{AUTH}"
           "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}").encode()
    exchange(emu, raw).problem(400)


# -- (c) numbers and ids in Unicode digits -------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "name", "value"),
    [
        (RECENT, "since_id", "¹²³"),
        (RECENT, "until_id", "١٢٣"),  # Arabic-Indic digits: int() accepts them
        (RECENT, "max_results", "¹⁰"),
        (RECENT, "max_results", "\uff11\uff10"),  # fullwidth 10
        (RECENT, "max_results", " 10"),
        ("/2/tweets/search/all", "since_id", "\uff11\uff12\uff13"),
        ("/2/tweets/sample/stream", "backfill_minutes", "¹"),
        ("/2/tweets/sample/stream", "backfill_minutes", "٣"),
        (RULES, "max_results", "¹⁰"),
        (RULES, "ids", "¹²³"),
    ],
)
def test_unicode_digits_answer_400_naming_the_parameter(
    emu: Emulator, path: str, name: str, value: str
) -> None:
    query = "query=brexit&" if "search/recent" in path or "search/all" in path else ""
    target = f"{path}?{query}{name}={quote(value)}"
    body = invalid_param(exchange(emu, request("GET", target)))
    assert name in body["errors"][0]["parameters"]


# -- (d) deeply nested queries and rules -------------------------------------------------------
@pytest.mark.parametrize("depth", [101, 2000])
def test_deeply_nested_query_answers_400(emu: Emulator, depth: int) -> None:
    query = "(" * depth + "brexit" + ")" * depth
    big = make(body_timeout_s=0.5, query_max_length=10_000, archive_query_max_length=10_000)
    with big:
        answer = exchange(big, request("GET", f"{RECENT}?query={quote(query, safe='()')}"))
    body = invalid_param(answer)
    assert "nest" in body["errors"][0]["message"]


def test_nesting_within_the_limit_is_served(emu: Emulator) -> None:
    query = "(" * 100 + "brexit" + ")" * 100
    with make(query_max_length=1000) as big:
        answer = exchange(big, request("GET", f"{RECENT}?query={quote(query)}"))
    assert answer.status == 200 and answer.json()["meta"]["result_count"] == 10


def test_deeply_nested_rule_is_an_invalid_rule(emu: Emulator) -> None:
    value = "(" * 300 + "dogs" + ")" * 300
    with make(rule_max_length=1000) as big:
        body = orjson.dumps({"add": [{"value": value}]})
        answer = exchange(big, request("POST", RULES, body))
        assert answer.status == 200, answer.body
        (error,) = answer.json()["errors"]
        assert error["type"] == "https://api.twitter.com/2/problems/invalid-rules"
        assert "nest" in error["details"][0]
        assert not big.state.rules.snapshot()


# -- (e) keep-alive after an early refusal --------------------------------------------------------
@pytest.mark.parametrize("refusal", ["401", "405", "404"])
def test_connection_stays_in_step_after_an_early_refusal(emu: Emulator, refusal: str) -> None:
    body = b'{"add": [{"value": "GET / HTTP/1.1"}]}'
    method, path, headers = {
        "401": ("POST", RULES, "Authorization: Bearer wrong\r\n"),
        "405": ("PUT", RULES, AUTH),
        "404": ("POST", "/2/nowhere", AUTH),
    }[refusal]
    with socket.create_connection(address(emu), timeout=5) as sock:
        sock.sendall(request(method, path, body, headers))
        first = read_answer(sock, method)
        sock.sendall(request("GET", f"{RECENT}?query=brexit"))
        second = read_answer(sock)
    first.problem(int(refusal))
    assert second.status == 200, second.body
    assert second.headers["Content-Type"].startswith("application/json")
    assert second.json()["meta"]["result_count"] == 10


# -- (f) a body shorter than its Content-Length --------------------------------------------------
def test_short_body_answers_408_within_the_body_timeout(emu: Emulator) -> None:
    with socket.create_connection(address(emu), timeout=5) as sock:
        sock.sendall(request("POST", RULES).replace(b"\r\n\r\n", b"\r\nContent-Length: 100"
                                                     b"\r\n\r\n") + b'{"add": ')
        started = time.monotonic()
        answer = read_answer(sock)
        waited = time.monotonic() - started
    body = answer.problem(408)
    assert "did not arrive" in body["detail"]
    assert answer.headers["Connection"] == "close"
    assert 0.3 < waited < 3


def test_slow_trickle_is_bounded_by_the_body_timeout(emu: Emulator) -> None:
    """A byte every 0.2 s never trips a per-read timeout; the deadline still ends it."""
    with socket.create_connection(address(emu), timeout=5) as sock:
        sock.sendall(request("POST", RULES).replace(b"\r\n\r\n", b"\r\nContent-Length: 50"
                                                     b"\r\n\r\n"))
        started = time.monotonic()
        for _ in range(25):  # 5 s of trickling unless the answer comes first
            sock.sendall(b" ")
            if select.select([sock], [], [], 0.2)[0]:
                break
        answer = read_answer(sock)
    answer.problem(408)
    assert time.monotonic() - started < 2


def test_chunked_body_is_read(emu: Emulator) -> None:
    body = b'{"add": [{"value": "chunked_rule_zz"}]}'
    raw = request("POST", RULES, headers=AUTH + "Transfer-Encoding: chunked\r\n")
    raw += b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    with socket.create_connection(address(emu), timeout=5) as sock:
        sock.sendall(raw + request("GET", RULES))
        added, listed = read_answer(sock, "POST"), read_answer(sock)
    assert added.status == 200 and added.json()["meta"]["summary"]["created"] == 1
    assert "chunked_rule_zz" in {r["value"] for r in listed.json()["data"]}


def test_bad_chunked_body_answers_400(emu: Emulator) -> None:
    raw = request("POST", RULES, headers=AUTH + "Transfer-Encoding: chunked\r\n") + b"zz\r\n"
    exchange(emu, raw).problem(400)


# -- (g) other methods ---------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["PUT", "DELETE", "TRACE", "PATCH", "OPTIONS", "BREW"])
@pytest.mark.parametrize("path", [RECENT, RULES, "/2/tweets/sample/stream"])
def test_other_methods_answer_405_with_allow(emu: Emulator, method: str, path: str) -> None:
    answer = exchange(emu, request(method, path, b"{}"))
    body = answer.problem(405)
    assert body["title"] == "Method Not Allowed"
    assert answer.headers["Allow"] == ("GET, HEAD, POST" if path == RULES else "GET, HEAD")


def test_other_method_on_unknown_path_answers_404(emu: Emulator) -> None:
    exchange(emu, request("DELETE", "/2/nowhere")).problem(404)


def test_head_is_get_without_a_body(emu: Emulator) -> None:
    with socket.create_connection(address(emu), timeout=5) as sock:
        sock.sendall(request("HEAD", f"{RECENT}?query=brexit"))
        head = read_answer(sock, "HEAD")
        sock.sendall(request("GET", f"{RECENT}?query=brexit"))
        get = read_answer(sock)
    assert head.status == get.status == 200
    assert head.body == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"] == str(len(get.body))
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert "x-rate-limit-remaining" in head.headers


def test_head_on_a_stream_sends_headers_only(emu: Emulator) -> None:
    before = emu.stream_stats("stream_sample").connections
    answer = exchange(emu, request("HEAD", "/2/tweets/sample/stream"), method="HEAD")
    assert answer.status == 200 and answer.body == b""
    assert answer.headers["Content-Type"].startswith("application/json")
    assert emu.stream_stats("stream_sample").connections == before  # no stream was opened


def test_head_is_refused_like_get(emu: Emulator) -> None:
    answer = exchange(emu, request("HEAD", RECENT, headers=""), method="HEAD")
    assert answer.status == 401 and answer.body == b""


# -- the front end: request line, headers, malformed requests ----------------------------------
def test_request_line_over_8k_answers_414(emu: Emulator) -> None:
    answer = exchange(emu, request("GET", f"{RECENT}?query={'a' * 9000}"))
    assert answer.problem(414)["title"] == "Request-URI Too Long"


def test_request_line_of_exactly_8k_is_served(emu: Emulator) -> None:
    target = f"{RECENT}?query=brexit&next_token="
    target += "x" * (8192 - len(f"GET {target} HTTP/1.1\r\n"))
    assert len(f"GET {target} HTTP/1.1\r\n") == 8192
    answer = exchange(emu, request("GET", target))
    assert invalid_param(answer)["errors"][0]["parameters"] == {"next_token": [target[-100:]]} \
        or answer.status == 400


def test_headers_over_8k_answer_431(emu: Emulator) -> None:
    headers = AUTH + "".join(f"X-Pad-{i}: {'p' * 100}\r\n" for i in range(90))
    answer = exchange(emu, request("GET", f"{RECENT}?query=brexit", headers=headers))
    answer.problem(431)


@pytest.mark.parametrize(
    "raw",
    [b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET /2/x HTTP/1.1 extra\r\n\r\n",
     b"GET /\r\n\r\n", b"GET / HTTP/1.1\r\nBad header line\r\n\r\n"],
)
def test_malformed_requests_answer_with_json(emu: Emulator, raw: bytes) -> None:
    answer = exchange(emu, raw)
    assert 400 <= answer.status < 600
    assert answer.headers["Content-Type"] == "application/problem+json", answer.body
    validate_problem(answer.json())


def test_a_bug_in_a_handler_answers_500(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(emu.state.rules, "lookup", boom)
    answer = exchange(emu, request("GET", RULES))
    answer.problem(500)
