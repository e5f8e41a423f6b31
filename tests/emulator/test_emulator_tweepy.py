"""A real third-party client (tweepy) against the emulator.

How the redirect works: tweepy hard-codes ``https://api.twitter.com`` but sends every request
through its ``requests.Session`` (``client.session`` / ``stream.session``). We mount a
``requests`` transport adapter for the ``https://api.twitter.com/`` prefix on that session; its
``send`` rewrites the URL to the emulator's ``http://127.0.0.1:<port>`` before the normal
HTTPAdapter sends it. Nothing in tweepy is patched.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from emukit import DATA, TOKEN, file_ids, make
from requests.adapters import HTTPAdapter
from tests.waiting import join, wait_for

from tweetpipe_emulator import parse_query

tweepy = pytest.importorskip("tweepy")

X_HOST = "https://api.twitter.com"


class RedirectAdapter(HTTPAdapter):
    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        assert request.url is not None
        request.url = self.target + request.url[len(X_HOST) :]
        return super().send(request, **kwargs)


def redirect(session: requests.Session, emulator_url: str) -> None:
    session.mount(X_HOST + "/", RedirectAdapter(emulator_url))


def test_tweepy_paginator_pages_through_search() -> None:
    path = DATA / "brexit.jsonl"
    with make(data_files=(path,)) as emu:
        client = tweepy.Client(bearer_token=TOKEN)
        redirect(client.session, emu.url)
        pages = list(
            tweepy.Paginator(
                client.search_recent_tweets, "brexit", max_results=25, expansions="author_id"
            )
        )
    assert len(pages) == 4
    ids = {str(t.id) for page in pages for t in page.data}
    assert ids == file_ids(path)
    assert all(page.includes["users"] for page in pages)


def test_tweepy_streaming_client_reads_filtered_stream() -> None:
    with make(data_files=(DATA / "streaming_output_with_error.jsonl",)) as emu:
        received: list[Any] = []
        done = threading.Event()

        class Collector(tweepy.StreamingClient):  # type: ignore[misc]
            def on_response(self, response: Any) -> None:
                received.append(response)
                if len(received) == 4:
                    done.set()
                    self.disconnect()

        stream = Collector(TOKEN, max_retries=1)
        redirect(stream.session, emu.url)
        stream.add_rules(tweepy.StreamRule("dogs", tag="dogs"))
        assert [r.value for r in stream.get_rules().data] == ["dogs"]
        thread = stream.filter(threaded=True)
        wait_for(done, 10, lambda: f"tweepy received {len(received)} of 4 responses")
        join(thread, 10, "tweepy's stream thread did not end after disconnect()")
    assert len(received) == 4
    assert all(r.matching_rules[0].tag == "dogs" for r in received)
    assert {str(r.data.id) for r in received} <= emu.stream_stats("stream_search").served_ids


def matching(emu: Any, query: str) -> set[str]:
    node = parse_query(query)
    return {str(e.id) for e in emu.state.store.newest_first() if node.match(e.subject)}


def test_tweepy_search_recent_and_all_tweets() -> None:
    with make() as emu:
        client = tweepy.Client(bearer_token=TOKEN, wait_on_rate_limit=False)
        redirect(client.session, emu.url)
        query = "brexit OR #kpop OR reliance"
        recent = list(tweepy.Paginator(client.search_recent_tweets, query, max_results=100,
                                       expansions="author_id,edit_history_tweet_ids"))
        archive = list(tweepy.Paginator(client.search_all_tweets, query, max_results=500))
        expected = matching(emu, query)
    got = [str(t.id) for page in recent for t in page.data]
    assert len(got) == len(set(got)) and set(got) == expected
    assert {str(t.id) for page in archive for t in page.data} == expected
    # every version named by edit_history_tweet_ids came back in includes.tweets
    included = {str(t.id) for page in recent for t in page.includes["tweets"]}
    assert {str(v) for page in recent for t in page.data
            for v in t.edit_history_tweet_ids} <= included


def test_tweepy_tweet_counts() -> None:
    with make() as emu:
        client = tweepy.Client(bearer_token=TOKEN)
        redirect(client.session, emu.url)
        query = "brexit OR #kpop OR reliance"
        recent = list(tweepy.Paginator(client.get_recent_tweets_count, query,
                                       granularity="day"))
        window = client.get_all_tweets_count(query, granularity="hour",
                                             start_time="2021-09-22T16:00:00Z",
                                             end_time="2021-09-22T17:00:00Z")
        expected = matching(emu, query)
        in_window = {i for i in expected
                     if emu.state.store.entries[int(i)].created_at is not None
                     and "2021-09-22T16" <= emu.state.store.entries[int(i)].created_at
                     .strftime("%Y-%m-%dT%H") < "2021-09-22T17"}
    assert len(recent) > 1  # tweepy followed next_token back through the days
    assert sum(page.meta["total_tweet_count"] for page in recent) == len(expected)
    assert window.meta == {"total_tweet_count": len(in_window)} and in_window
    assert [(b["start"], b["end"]) for b in window.data] == [
        ("2021-09-22T16:00:00.000Z", "2021-09-22T17:00:00.000Z")]
