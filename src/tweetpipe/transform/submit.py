"""Entry point for `spark-submit`: the batch transform with settings from the environment.

    spark-submit --master spark://HOST:7077 \\
        --jars "$(ls ~/.cache/tweetpipe/jars/spark-*/*.jar | paste -sd,)" \\
        --conf spark.pyspark.python="$(command -v python)" \\
        "$(python -c 'import tweetpipe.transform.submit as m; print(m.__file__)')" [--full]

The master, jars, Python and resources are spark-submit's (`--master yarn` on EMR: see
deploy/emr/step.json); the settings (DB_*, DB_PASS_FILE, ...) come from the driver's
environment, e.g. `spark.yarn.appMasterEnv.*` in YARN's cluster mode.
"""

from __future__ import annotations

import sys

from tweetpipe.settings import load_settings
from tweetpipe.transform.batch_job import run_batch
from tweetpipe.transform.spark_session import submitted_session


def main(argv: list[str]) -> int:
    settings = load_settings()
    spark = submitted_session()
    try:
        result = run_batch(settings, full="--full" in argv, spark=spark)
    finally:
        spark.stop()
    print(f"read {result.read} rows, upserted {result.upserted} "
          f"(load_seq {result.watermark_from} -> {result.watermark_to})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
