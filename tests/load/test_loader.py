"""The loader's pure parts (its runs on real services are in tests/test_load*.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from tweetpipe.load import loader


@pytest.fixture
def thresholds() -> Iterator[tuple[int, ...]]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*before)


def test_collections_are_fewer_while_loaders_run_and_as_before_after_the_last(
        thresholds: tuple[int, ...]) -> None:
    first, second = loader._fewer_collections(), loader._fewer_collections()
    first.__enter__()
    assert gc.get_threshold() == (loader.GC_THRESHOLD, 10, 10)
    second.__enter__()  # a second loader in the same process (e.g. a notebook's threads)
    first.__exit__(None, None, None)
    assert gc.get_threshold() == (loader.GC_THRESHOLD, 10, 10)  # the second still runs
    second.__exit__(None, None, None)
    assert gc.get_threshold() == thresholds


def test_a_higher_threshold_is_never_lowered(thresholds: tuple[int, ...]) -> None:
    gc.set_threshold(10 * loader.GC_THRESHOLD, 10, 10)
    with loader._fewer_collections():
        assert gc.get_threshold()[0] == 10 * loader.GC_THRESHOLD
    assert gc.get_threshold() == (10 * loader.GC_THRESHOLD, 10, 10)
