"""The live dashboard over HTTP: Python's own `ThreadingHTTPServer`, no framework.

Routes: `/` the page, `/static/...` its script, style and the chart library (installed from
npm at build time by scripts/build_web.sh, served from here: the page loads nothing from
elsewhere, and its Content-Security-Policy forbids it), `/api/dashboard` the JSON document,
`/events` the same document pushed every `interval` seconds (server-sent events), `/metrics`
(Prometheus text) and `/healthz`. Other paths are 404, other methods than GET and HEAD 405. A
failing request is logged and answered 500; the server goes on.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tweetpipe.dashboard import queries
from tweetpipe.dashboard.payload import JSON, Dashboard
from tweetpipe.errors import ConfigError
from tweetpipe.settings import Settings

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
DEFAULT_PORT = 8080
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8",
         ".txt": "text/plain; charset=utf-8", ".md": "text/plain; charset=utf-8"}
SAFE_PATH = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*")
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], dashboard: Dashboard,
                 metrics: Callable[[], str], stop: threading.Event, interval: float) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.dashboard, self.metrics, self.stop, self.interval = dashboard, metrics, stop, interval
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = "tweetpipe-dashboard"
    sys_version = ""

    def do_GET(self) -> None:
        self.dispatch(body=True)

    def do_HEAD(self) -> None:
        self.dispatch(body=False)

    def not_allowed(self) -> None:
        self.reply(HTTPStatus.METHOD_NOT_ALLOWED, b"method not allowed\n", extra={
            "Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = not_allowed

    def dispatch(self, *, body: bool) -> None:
        path = urlsplit(self.path).path
        self._answered = False
        try:
            self.route(path, body)
        except (BrokenPipeError, ConnectionResetError):
            log.debug("dashboard: %s went away during %s", self.client_address[0], path)
        except Exception:
            log.exception("dashboard: %s %s failed", self.command, path)
            if not self._answered:
                self.reply(HTTPStatus.INTERNAL_SERVER_ERROR, b"internal error\n")

    def route(self, path: str, body: bool) -> None:
        srv = self.server
        if path == "/":
            self.static("index.html", body)
        elif path.startswith("/static/"):
            self.static(path.removeprefix("/static/"), body)
        elif path == "/api/dashboard":
            self.reply(HTTPStatus.OK, srv.dashboard.payload(), "application/json", body=body)
        elif path == "/events":
            self.events(body)
        elif path == "/metrics":
            self.reply(HTTPStatus.OK, srv.metrics().encode(), METRICS_TYPE, body=body)
        elif path == "/healthz":
            self.reply(HTTPStatus.OK, b"ok\n", body=body)
        else:
            self.reply(HTTPStatus.NOT_FOUND, b"not found\n", body=body)

    def static(self, name: str, body: bool) -> None:
        found = static_file(name)
        if found is None:
            self.reply(HTTPStatus.NOT_FOUND, b"not found\n", body=body)
            return
        self.reply(HTTPStatus.OK, found.read_bytes(), TYPES[found.suffix], body=body)

    def events(self, body: bool) -> None:
        """Server-sent events: the document now, then every `interval` seconds until the
        client leaves or the server stops."""
        srv = self.server
        self._answered = True
        self.send_response(HTTPStatus.OK)
        self.send_common("text/event-stream")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        if not body:
            return
        self.wfile.write(f"retry: {int(srv.interval * 1000)}\n\n".encode())
        while not srv.stop.is_set():
            self.wfile.write(b"data: " + srv.dashboard.payload() + b"\n\n")
            self.wfile.flush()
            if srv.stop.wait(srv.interval):
                break

    def reply(self, status: HTTPStatus, content: bytes, content_type: str = TYPES[".txt"], *,
              body: bool = True, extra: dict[str, str] | None = None) -> None:
        self._answered = True
        self.send_response(status)
        self.send_common(content_type)
        self.send_header("Content-Length", str(len(content)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(content)

    def send_common(self, content_type: str) -> None:
        self.send_header("Content-Type", content_type)
        for name, value in HEADERS.items():
            self.send_header(name, value)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("dashboard: %s " + format, self.client_address[0], *args)


def static_file(name: str) -> Path | None:
    """The file `name` under static/ if it is one of the types served (no way out of it)."""
    if not SAFE_PATH.fullmatch(name):
        return None
    path = (STATIC / name).resolve()
    if not path.is_relative_to(STATIC) or path.suffix not in TYPES or not path.is_file():
        return None
    return path


def url_of(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
          facts: Callable[[], JSON], metrics: Callable[[], str], stop: threading.Event,
          ready: Callable[[str], None] | None = None, interval: float = 2.0,
          limits: queries.Limits = queries.Limits()) -> None:
    """Serve the dashboard at http://host:port/ until `stop` is set (port 0: a free port);
    `ready(url)` is called once it listens."""
    dashboard = Dashboard(settings, facts, limits=limits, fresh_for=min(1.0, interval / 2))
    try:
        server = Server((host, port), dashboard, metrics, stop, interval)
    except OSError as exc:
        raise ConfigError(f"the dashboard cannot listen on {host}:{port}: {exc.strerror or exc}"
                          " (another port: --port)") from None
    if not (STATIC / "vendor" / "chart.umd.min.js").is_file():
        log.warning("dashboard: the chart library is missing (run scripts/build_web.sh):"
                    " the page shows tables only")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="tweetpipe-dashboard", daemon=True)
    thread.start()
    url = url_of(host, server.server_address[1])
    log.info("dashboard at %s", url)
    try:
        if ready is not None:
            ready(url)
        stop.wait()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
