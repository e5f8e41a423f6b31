"""Entry point for `spark-submit`: the batch transform with settings from the environment.

    spark-submit --master spark://HOST:7077 \\
        --jars "$(ls ~/.cache/tweetpipe/jars/spark-*/*.jar | paste -sd,)" \\
        "$(python -c 'import tweetpipe.transform.submit as m; print(m.__file__)')" [--full]

Set SPARK_MASTER to the same master (the session is built from the settings and joins the
context spark-submit created).
"""

from __future__ import annotations

import sys

from tweetpipe.settings import load_settings
from tweetpipe.transform.batch_job import run_batch


def main(argv: list[str]) -> int:
    result = run_batch(load_settings(), full="--full" in argv)
    print(f"read {result.read} rows, upserted {result.upserted} "
          f"(load_seq {result.watermark_from} -> {result.watermark_to})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
