"""Entry point for `spark-submit`: the batch transform with settings from the environment.

    spark-submit --master spark://HOST:7077 \\
        --jars "$(ls ~/.cache/tweetpipe/jars/spark-*/*.jar | paste -sd,)" \\
        --conf spark.pyspark.python="$(command -v python)" \\
        "$(python -c 'import tweetpipe.transform.submit as m; print(m.__file__)')" \\
        [--full] [--partitions N]

The master, jars, Python and resources are spark-submit's (`--master yarn` on EMR: see
deploy/emr/step.json); the settings (DB_*, DB_PASS_FILE, ...) come from the driver's
environment (the step runs spark-submit under `env NAME=VALUE...`). `--partitions N` splits
the rows read over JDBC into N tasks: the job's whole parallelism (it has no shuffle before
the write), so give it the executors' total cores.
"""

from __future__ import annotations

import argparse
import sys

from tweetpipe.settings import load_settings
from tweetpipe.transform.batch_job import run_batch
from tweetpipe.transform.spark_session import submitted_session


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="submit.py", description="tweetpipe's batch transform")
    parser.add_argument("--full", action="store_true", help="reprocess every row")
    parser.add_argument("--partitions", type=int, default=4, help="JDBC read partitions = tasks")
    options = parser.parse_args(argv)
    settings = load_settings()
    spark = submitted_session()
    try:
        result = run_batch(settings, full=options.full, partitions=options.partitions,
                           spark=spark)
    finally:
        spark.stop()
    print(f"read {result.read} rows, upserted {result.upserted} "
          f"(load_seq {result.watermark_from} -> {result.watermark_to})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
