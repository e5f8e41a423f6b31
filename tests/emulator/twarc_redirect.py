"""Run twarc2's own command line against the emulator.

    python twarc_redirect.py http://127.0.0.1:PORT search brexit out.jsonl

twarc hard-codes ``https://api.twitter.com`` in every endpoint and has no option for another
base URL. It sends every request through the ``requests.Session`` that ``Twarc2.connect`` makes
(``self.client``; made again on reconnects). This launcher wraps ``connect`` to mount a
``requests`` transport adapter for the ``https://api.twitter.com/`` prefix on that session; the
adapter rewrites each URL to the emulator before the normal HTTPAdapter sends it. Nothing else
of twarc is touched: the commands, paging, rate-limit handling and streaming are twarc's own.
"""

from __future__ import annotations

import sys
from typing import Any

import requests
import twarc.client2
from requests.adapters import HTTPAdapter
from twarc.command2 import twarc2

X_HOST = "https://api.twitter.com"


class Redirect(HTTPAdapter):
    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        assert request.url is not None and request.url.startswith(X_HOST)
        request.url = self.target + request.url[len(X_HOST):]
        return super().send(request, **kwargs)


def redirect_twarc(target: str) -> None:
    """Make every `Twarc2` session of this process talk to `target` instead of X."""
    connect = twarc.client2.Twarc2.connect

    def connect_to_emulator(self: Any) -> None:
        connect(self)
        self.client.mount(X_HOST + "/", Redirect(target))

    twarc.client2.Twarc2.connect = connect_to_emulator  # type: ignore[method-assign]


if __name__ == "__main__":
    redirect_twarc(sys.argv[1])
    twarc2.main(args=sys.argv[2:], prog_name="twarc2")
