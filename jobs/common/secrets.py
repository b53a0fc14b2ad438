"""The pseudonymisation key, as jobs use it."""
from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from jobs.common.config import JobConfig


def require_pseudonym_key(cfg: JobConfig) -> None:
    """Fail before Spark starts when the key's environment variable is not set."""
    cfg.secret(cfg.secrets.pseudonym_key_env)


def pseudonym_key_frame(spark: SparkSession, cfg: JobConfig) -> DataFrame:
    """A one-row DataFrame (pseudonym_key) to join: the key stays data, out of query plans."""
    return spark.createDataFrame([(cfg.secret(cfg.secrets.pseudonym_key_env),)], "pseudonym_key string")
