"""notebooks/tweet_pipeline.ipynb runs headless, end to end, on the session's services: its
kernel gets the test's isolated settings through the environment, as a user's would from
theirs, and the notebook's three parts fill `tweet_merge` and `tweet_transformed`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tweetpipe.demo import distinct_ids, sample_files
from tweetpipe.settings import Settings

from .pipeline import count, query, settings_env

pytestmark = [pytest.mark.integration, pytest.mark.spark]
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "tweet_pipeline.ipynb"
KERNEL = "tweetpipe-test"


def kernel_manager(folder: Path) -> Any:
    """A kernel running this interpreter (the venv's), whatever kernels Jupyter knows."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    spec = folder / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "tweetpipe test", "language": "python"}))
    return AsyncKernelManager(kernel_name=KERNEL,
                              kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(folder)]))


def outputs(nb: Any, kind: str) -> list[Any]:
    return [out for cell in nb.cells if cell.cell_type == "code"
            for out in cell.get("outputs", []) if kind in out.get("data", {})]


def text_of(nb: Any) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            parts.append(out.get("text", "") + out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_the_notebook_runs_the_three_parts_end_to_end(pipeline: Settings, tmp_path: Path
                                                      ) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    env = settings_env(pipeline)
    env.pop("MPLBACKEND", None)  # the kernel's inline backend draws the figures
    client = NotebookClient(nb, km=kernel_manager(tmp_path / "kernels"), timeout=900,
                            allow_errors=False,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)

    expected = distinct_ids(sample_files())
    assert count(pipeline, "tweet_merge") == len(expected) == 431
    assert count(pipeline, "tweet_transformed") == len(expected)
    transformed = {str(r[0]) for r in query(pipeline, "SELECT tweet_id FROM tweet_transformed")}
    assert transformed == expected
    assert count(pipeline, "dead_letters") >= 1 and count(pipeline, "trend_minute") > 0
    figures = outputs(nb, "image/png")
    assert len(figures) == 2  # tweets per minute, top hashtags
    shown = text_of(nb)
    assert f"upserted {len(expected)} into tweet_transformed" in shown
    assert (f"second transform: 0 new rows; tweet_merge {len(expected)}, "
            f"tweet_transformed {len(expected)} rows") in shown
    (top,) = query(pipeline, "SELECT hashtag FROM trend_hashtag GROUP BY 1"
                             " ORDER BY sum(tweets) DESC, 1 LIMIT 1")
    assert top[0] in shown  # the top hashtags table
