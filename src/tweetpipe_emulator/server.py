"""HTTP layer: routing, bearer auth, rate-limit headers, request faults, chunked streams.

Every request gets an HTTP answer, as from X's front end: a request line over 8 KiB gets 414,
a header section over 8 KiB 431, a malformed request, `Content-Length` or chunked body 400, a
body over 1 MiB 413, a body that does not arrive within `body_timeout_s` 408 (these close the
connection), a method the path does not serve 405 with `Allow`, HEAD what GET would answer
without the body, an unknown path 404, and a failure inside the emulator 500. Error bodies are
X's problem JSON (`application/problem+json`). The body of every request is read before the
answer, so a keep-alive connection stays in step after an early refusal (401, 429, 405).
"""

from __future__ import annotations

import contextlib
import hmac
import re
import socket
import struct
import sys
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from tweetpipe_emulator import problems
from tweetpipe_emulator.counts_endpoints import counts
from tweetpipe_emulator.problems import ApiError
from tweetpipe_emulator.ratelimit import Verdict
from tweetpipe_emulator.search_endpoints import search
from tweetpipe_emulator.state import EmulatorState
from tweetpipe_emulator.store import Json
from tweetpipe_emulator.stream_endpoints import StreamClosed, StreamSession
from tweetpipe_emulator.validation import Clock, check_search, query_params

MAX_REQUEST_LINE = 8192  # bytes, CRLF included; longer: 414
MAX_HEADER_BYTES = 8192  # the header section; larger: 431
MAX_BODY = 1 << 20  # larger: 413
DRAIN_S = 1.0  # after an answer that closes the connection, read what the client still sends
_LENGTH = re.compile(r"[0-9]{1,15}", re.ASCII)
_CHUNK_SIZE = re.compile(r"[0-9a-fA-F]{1,8}", re.ASCII)


class _BadBody(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail

ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/2/tweets/search/recent"): "search_recent",
    ("GET", "/2/tweets/search/all"): "search_all",
    ("GET", "/2/tweets/counts/recent"): "counts_recent",
    ("GET", "/2/tweets/counts/all"): "counts_all",
    ("GET", "/2/tweets/search/stream/rules"): "rules",
    ("POST", "/2/tweets/search/stream/rules"): "rules",
    ("GET", "/2/tweets/search/stream"): "stream_search",
    ("GET", "/2/tweets/sample/stream"): "stream_sample",
}


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: EmulatorState) -> None:
        super().__init__(address, Handler)
        self.state = state
        self.clock = Clock(state.options, state.store)


def methods_of(path: str) -> set[str]:
    """The methods `path` serves (HEAD wherever GET is)."""
    methods = {m for (m, p) in ROUTES if p == path}
    return methods | {"HEAD"} if "GET" in methods else methods


def front_error(status: int, detail: str) -> Json:
    """A problem as X's front end answers it (before any endpoint runs)."""
    title = HTTPStatus(status).phrase
    return {"title": title, "detail": detail, "type": "about:blank", "status": status}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # one write per response (no delayed-ACK stalls); streams flush per line
    disable_nagle_algorithm = True
    server: EmulatorServer

    _head = False  # answering HEAD: headers only
    _started = False  # the status line of this request's answer is out
    _drain = False  # the connection closes after an answer sent before the request was read
    _raw_body = b""

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: never log requests (they carry the bearer token in headers)."""

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            super().finish()
        if self._drain:
            self._drain_input()

    # -- the front end: request line, headers, body, method -----------------------------------
    def handle_one_request(self) -> None:
        self._head = self._started = False
        self._raw_body = b""
        try:
            self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
            if not self.raw_requestline:
                self.close_connection = True
                return
            if len(self.raw_requestline) > MAX_REQUEST_LINE:
                self.request_version, self.command, self.path = "HTTP/1.1", "", ""
                self.requestline = ""
                self._front(414, f"The request line is longer than {MAX_REQUEST_LINE} bytes")
                return
            if not self.parse_request():  # answered through send_error
                return
            if self.request_version == "HTTP/0.9":
                self.request_version = "HTTP/1.1"
                self._front(400, "HTTP/0.9 requests are not supported")
                return
            size = sum(len(k) + len(v) + 4 for k, v in self.headers.items())
            if size > MAX_HEADER_BYTES:
                self._front(431, f"The request headers are larger than {MAX_HEADER_BYTES} bytes")
                return
            self._route()
            self.wfile.flush()
        except OSError:  # the client went away (or timed out): nobody left to answer
            self.close_connection = True
        except Exception:  # a bug before an endpoint ran: still an answer
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            if not self._started:
                with contextlib.suppress(Exception):
                    self._send(500, problems.server_error(500), {"Connection": "close"})

    def send_error(self, code: int, message: str | None = None, explain: str | None = None
                   ) -> None:
        """http.server's own errors (malformed request line, bad version, header lines too
        long or too many) as problem JSON instead of HTML."""
        if not self.request_version or self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.1"
        self._front(code, explain or message or HTTPStatus(code).phrase)

    def _front(self, status: int, detail: str) -> None:
        """Answer `status` and close the connection (the request was not read to its end)."""
        self._drain = True
        self._send(status, front_error(status, detail), {"Connection": "close"})

    def _route(self) -> None:
        try:
            self._raw_body = self._read_body()
        except _BadBody as bad:
            self._front(bad.status, bad.detail)
            return
        path = urlsplit(self.path).path.rstrip("/")
        methods = methods_of(path)
        if not methods:
            self._send(404, problems.NOT_FOUND)
            return
        method = self.command
        if method not in methods:
            allow = ", ".join(sorted(methods))
            detail = f"The method {method} is not allowed on {path}; use {allow}"
            self._send(405, front_error(405, detail), {"Allow": allow})
            return
        if method == "HEAD":
            self._head, method = True, "GET"
        try:
            self._handle(method)
        except Exception:  # a bug: still an answer, and the traceback for whoever runs us
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            if not self._started:
                self._send(500, problems.server_error(500), {"Connection": "close"})

    def _read_body(self) -> bytes:
        """The request body (Content-Length or chunked), read within `body_timeout_s`."""
        lengths = self.headers.get_all("Content-Length") or []
        coding = self.headers.get("Transfer-Encoding")
        if coding is None and not lengths:
            return b""
        deadline = time.monotonic() + self.server.state.options.body_timeout_s
        try:
            if coding is not None:
                if coding.strip().lower() != "chunked" or lengths:
                    raise _BadBody(400, f"Unsupported Transfer-Encoding: {coding!r}")
                return self._read_chunked(deadline)
            values = {v.strip() for v in lengths}
            if len(values) != 1 or not _LENGTH.fullmatch(next(iter(values))):
                raise _BadBody(400, f"Invalid Content-Length: {', '.join(lengths)!r}")
            length = int(next(iter(values)))
            if length > MAX_BODY:
                raise _BadBody(413, f"The request body is larger than {MAX_BODY} bytes")
            return self._read_exact(length, deadline)
        finally:
            with contextlib.suppress(OSError):
                self.connection.settimeout(None)

    def _wait(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _BadBody(408, "The request body did not arrive in time")
        self.connection.settimeout(left)

    def _read_exact(self, n: int, deadline: float) -> bytes:
        parts: list[bytes] = []
        while n > 0:
            self._wait(deadline)
            try:
                chunk = self.rfile.read1(min(n, 1 << 16))
            except TimeoutError as exc:
                raise _BadBody(408, "The request body did not arrive in time") from exc
            if not chunk:
                raise _BadBody(400, "The request body is shorter than its Content-Length")
            parts.append(chunk)
            n -= len(chunk)
        return b"".join(parts)

    def _read_line(self, deadline: float) -> bytes:
        line = b""
        while not line.endswith(b"\n"):
            if len(line) > 4096:
                raise _BadBody(400, "A chunk-size line of the request body is too long")
            line += self._read_exact(1, deadline)
        return line

    def _read_chunked(self, deadline: float) -> bytes:
        body = b""
        while True:
            size_text = self._read_line(deadline).split(b";", 1)[0].strip().decode("latin-1")
            if not _CHUNK_SIZE.fullmatch(size_text):
                raise _BadBody(400, f"Invalid chunk size {size_text!r} in the request body")
            size = int(size_text, 16)
            if len(body) + size > MAX_BODY:
                raise _BadBody(413, f"The request body is larger than {MAX_BODY} bytes")
            if size == 0:
                while self._read_line(deadline).strip():  # trailer fields, then a blank line
                    pass
                return body
            body += self._read_exact(size, deadline)
            if self._read_exact(2, deadline) != b"\r\n":
                raise _BadBody(400, "A chunk of the request body does not end with CRLF")

    def _drain_input(self) -> None:
        """Read (and drop) what the client still sends, so closing does not reset the
        connection and destroy the answer before the client read it."""
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_WR)
            deadline, total = time.monotonic() + DRAIN_S, 0
            while total < MAX_BODY and (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)
                data = self.connection.recv(1 << 16)
                if not data:
                    break
                total += len(data)

    # -- plumbing -------------------------------------------------------------------------
    def _send(self, status: int, body: Json, headers: dict[str, str] | None = None) -> None:
        payload = orjson.dumps(body)
        problem = status >= 400 and "title" in body and "type" in body
        self._started = True
        self.send_response(status)
        self.send_header(
            "Content-Type",
            "application/problem+json" if problem else "application/json; charset=utf-8",
        )
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not self._head:
            self.wfile.write(payload)

    def _reset(self) -> None:
        """Close with a TCP RST: SO_LINGER on with a zero timeout."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        expected = self.server.state.options.token
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), expected)

    def _body(self) -> Any:
        raw = self._raw_body
        try:
            return orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError as exc:
            raise ApiError(
                400, problems.invalid_request("request body is not valid JSON", {})
            ) from exc

    # -- request flow ---------------------------------------------------------------------
    def _handle(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        endpoint = ROUTES.get((method, url.path.rstrip("/")))
        if endpoint is None:
            self._send(404, problems.NOT_FOUND)
            return
        state.count_request(endpoint)
        if self._injected_fault(endpoint):
            return
        if not self._authorized():
            self._send(401, problems.UNAUTHORIZED, state.limiter.peek(endpoint).headers())
            return
        verdict = state.limiter.check(endpoint)
        if not verdict.allowed:
            self._send(429, problems.TOO_MANY_REQUESTS, verdict.headers())
            return
        try:
            pairs = parse_qsl(url.query, keep_blank_values=True)
            name = f"{endpoint}_{method.lower()}" if endpoint == "rules" else endpoint
            params = query_params(name, pairs)
            self._dispatch(method, endpoint, params, verdict)
        except ApiError as exc:
            self._send(exc.status, exc.body, verdict.headers())

    def _injected_fault(self, endpoint: str) -> bool:
        state = self.server.state
        fault = state.faults.request_fault(endpoint)
        if fault is None:
            return False
        if fault == "reset":
            self._reset()
        elif fault == "429nohdr":
            self._send(429, problems.TOO_MANY_REQUESTS)
        elif fault == "429":
            v = state.limiter.peek(endpoint)
            self._send(
                429, problems.TOO_MANY_REQUESTS, Verdict(False, v.limit, 0, v.reset).headers()
            )
        else:
            status = int(fault)
            self._send(
                status, problems.server_error(status), state.limiter.peek(endpoint).headers()
            )
        return True

    def _dispatch(self, method: str, endpoint: str, params: dict[str, str], v: Verdict) -> None:
        state = self.server.state
        if endpoint.startswith("search_"):
            clock = self.server.clock
            check_search(endpoint, params, state.options, clock)
            body = search(state.store, endpoint, params, clock.visible(endpoint))
            self._send(200, body, v.headers())
        elif endpoint.startswith("counts_"):
            clock = self.server.clock
            check_search(endpoint, params, state.options, clock)
            window = clock.visible("search_recent" if endpoint == "counts_recent" else "search_all")
            body = counts(state.store, endpoint, params, window, clock.fixed())
            self._send(200, body, v.headers())
        elif endpoint == "rules" and method == "GET":
            self._send(200, state.rules.lookup(params), v.headers())
        elif endpoint == "rules":
            self._send(200, state.rules.update(params, self._body()), v.headers())
        else:
            self._stream(endpoint, params, v)

    def _stream(self, name: str, params: dict[str, str], v: Verdict) -> None:
        state = self.server.state
        if name == "stream_search" and not state.rules.snapshot():
            raise ApiError(409, problems.NO_RULES)
        if self._head:
            self._start_chunked(v)
            self.close_connection = True
            return
        connection = state.open_stream(name)
        if connection is None:
            raise ApiError(429, problems.TOO_MANY_CONNECTIONS)
        try:
            session = StreamSession(state, name, connection, params, self._chunk)
            self._start_chunked(v)
            self._run(session)
        finally:
            state.close_stream(name)

    def _start_chunked(self, v: Verdict) -> None:
        self._started = True
        limit = self.server.state.options.stream_max_s
        self._stream_end = None if limit is None else time.monotonic() + limit
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        for key, value in v.headers().items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.flush()

    _stream_end: float | None = None

    def _chunk(self, data: bytes) -> None:
        if self._stream_end is not None and time.monotonic() >= self._stream_end:
            raise StreamClosed()  # stream_max_s: end cleanly (X itself never does)
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _run(self, session: StreamSession) -> None:
        self.close_connection = True
        try:
            session.run()
            self.wfile.write(b"0\r\n\r\n")
        except StreamClosed as closed:
            if closed.reset:
                self._reset()
            else:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            return  # the client went away
