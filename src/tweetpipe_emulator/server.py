"""HTTP layer: routing, bearer auth, rate-limit headers, request faults, chunked streams."""

from __future__ import annotations

import contextlib
import hmac
import socket
import struct
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from tweetpipe_emulator import problems
from tweetpipe_emulator.problems import ApiError
from tweetpipe_emulator.ratelimit import Verdict
from tweetpipe_emulator.search_endpoints import search
from tweetpipe_emulator.state import EmulatorState
from tweetpipe_emulator.store import Json
from tweetpipe_emulator.stream_endpoints import StreamClosed, StreamSession

ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/2/tweets/search/recent"): "search_recent",
    ("GET", "/2/tweets/search/all"): "search_all",
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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # one write per response (no delayed-ACK stalls); streams flush per line
    disable_nagle_algorithm = True
    server: EmulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: never log requests (they carry the bearer token in headers)."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            super().finish()

    # -- plumbing -------------------------------------------------------------------------
    def _send(self, status: int, body: Json, headers: dict[str, str] | None = None) -> None:
        payload = orjson.dumps(body)
        problem = status >= 400 and "title" in body and "type" in body
        self.send_response(status)
        self.send_header(
            "Content-Type",
            "application/problem+json" if problem else "application/json; charset=utf-8",
        )
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
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
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
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
        params = dict(parse_qsl(url.query, keep_blank_values=True))
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
            self._send(200, search(state.store, endpoint, params), v.headers())
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
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        for key, value in v.headers().items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
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
