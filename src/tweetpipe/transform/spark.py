"""The SparkSession tweetpipe's jobs run in: master from settings, JDBC driver and Kafka
connector jars from the Maven cache, the venv's Python for the workers."""

from __future__ import annotations

import sys
from typing import Any

from tweetpipe.services import jars
from tweetpipe.settings import Settings


def session(settings: Settings, *, app: str = "tweetpipe-transform", master: str | None = None,
            conf: dict[str, str] | None = None) -> Any:
    from pyspark.sql import SparkSession

    classpath = ",".join(str(p) for p in jars.classpath(settings, "spark"))
    builder = (
        SparkSession.builder.master(master or settings.spark_master)
        .appName(app)
        .config("spark.jars", classpath)
        .config("spark.pyspark.python", sys.executable)
        .config("spark.pyspark.driver.python", sys.executable)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "1g")
        .config("spark.local.dir", str(settings.state_dir / "spark" / "tmp"))
    )
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def jdbc_properties(settings: Settings, **extra: str) -> dict[str, str]:
    """Connection properties for Spark's JDBC source and sink (holds the password)."""
    return {
        "user": settings.db_user,
        "password": settings.db_pass.get_secret_value(),
        "driver": "org.postgresql.Driver",
        **extra,
    }
