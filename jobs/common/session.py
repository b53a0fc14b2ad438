"""The one SparkSession factory, used by every job and by the tests."""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

from pyspark.sql import SparkSession

from jobs.common.class_archive import driver_java_options
from jobs.common.config import PROJECT_ROOT, JobConfig, resolve_path

JAR_DIR = PROJECT_ROOT / ".jars"
# Built from jvm/src by `make setup`; on the driver's own class path, because spark-submit
# reads the local file system (to find the jars) before it loads the jars given to it.
LOCAL_FS_JAR = JAR_DIR / "lakehouse-hadoop.jar"
# Spark loggers whose warning is wrong for this project, quieted to errors. At the start of
# every streaming query Spark warns that adaptive execution "will be disabled", but the
# micro-batches it hands to foreachBatch (every stream here) keep the session's settings,
# adaptive execution included (a test checks it): 6 false warnings a pipeline run. And after
# every MERGE whose source Delta materialized (a local checkpoint), Delta unpersists it and
# Spark warns that the RDD "cannot be recomputed after unpersisting": true, and meant for code
# that reads such an RDD again; Delta never does. Seven of them in every nightly run. And once
# per run, that the text of a wide plan was truncated (spark.sql.debug.maxToStringFields): no
# job prints plans, so it only worried readers of `make run`.
QUIETED_LOGGERS = ("org.apache.spark.sql.execution.streaming.runtime.ResolveWriteToStream",
                   "org.apache.spark.rdd.MapPartitionsRDD", "org.apache.spark.util.SparkStringUtils")


class SetupError(RuntimeError):
    """The project is not set up (for example the pinned jars were never fetched)."""


def pinned_jars() -> list[str]:
    """The jars in .jars/, as `make setup` leaves them: those pinned in jvm/pom.xml and the one
    built from jvm/src."""
    jars = sorted(str(p) for p in JAR_DIR.glob("*.jar"))
    if not jars:
        raise SetupError(f"no jars in {JAR_DIR}: run `make setup` once with network access")
    if not LOCAL_FS_JAR.is_file():
        raise SetupError(f"{LOCAL_FS_JAR} is missing: run `make setup`, which compiles jvm/src (no network needed)")
    return jars


def build_session(app_name: str, cfg: JobConfig) -> SparkSession:
    """A SparkSession with Delta Lake, UTC session time, and the configured master and tuning.

    Under spark-submit the JVM already exists and spark-submit.sh has passed master and
    jars; settings given here that only apply at JVM start are then ignored by Spark.
    """
    spark_cfg = cfg.spark
    builder = (
        SparkSession.builder
        .appName(f"{spark_cfg.app_name_prefix}-{app_name}")
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(spark_cfg.shuffle_partitions))
        .config("spark.ui.enabled", str(spark_cfg.ui_enabled).lower())
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", resolve_path(cfg.paths.warehouse))
        # Delta reads its own schema from the log; no Hive metastore is needed by default.
        .config("spark.sql.catalogImplementation", "in-memory")
    )
    settings = dict(spark_cfg.settings)
    if not _under_spark_submit():  # this process starts the driver JVM (spark-submit.sh passes these itself)
        builder = (builder.master(spark_cfg.master)
                   .config("spark.driver.memory", spark_cfg.driver_memory)
                   .config("spark.jars", ",".join(pinned_jars()))
                   .config("spark.driver.extraClassPath", str(LOCAL_FS_JAR)))
        options = driver_java_options(settings.get("spark.driver.extraJavaOptions"))
        if options:
            settings["spark.driver.extraJavaOptions"] = options
    if spark_cfg.event_log_enabled:
        local_dir = resolve_path(cfg.paths.event_log)
        if "://" not in local_dir:
            os.makedirs(local_dir, exist_ok=True)
        builder = (builder.config("spark.eventLog.enabled", "true")
                   .config("spark.eventLog.dir", local_dir))
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(spark_cfg.log_level)
    log4j = spark.sparkContext._jvm.org.apache.logging.log4j
    for name in QUIETED_LOGGERS:
        log4j.core.config.Configurator.setLevel(name, log4j.Level.ERROR)
    return spark


def _under_spark_submit() -> bool:
    # spark-submit starts the JVM first and tells the Python driver how to reach it.
    return "PYSPARK_GATEWAY_PORT" in os.environ


@contextlib.contextmanager
def sql_settings(spark: SparkSession, settings: Mapping[str, str]) -> Iterator[None]:
    """These SQL settings for the queries planned and run in the block, then the session's
    own again."""
    before = {key: spark.conf.get(key, None) for key in settings}
    try:
        for key, value in settings.items():
            spark.conf.set(key, value)
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
