"""ops.table_builds: which source version a derived table was last rebuilt from, and for
which dates. A job that derives one table from another reads the changes since the
version it last consumed, rebuilds the dates they touch, then appends its ledger row;
killed in between, it simply rebuilds the same dates again."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.common.config import JobConfig
from jobs.common.io import Commit, append_rows, read_table, table_exists
from jobs.common.runs import RunContext
from jobs.common.version import code_version
from schemas.ops import TABLE_BUILDS
from schemas.spec import TableSpec


def last_source_version(spark: SparkSession, cfg: JobConfig, target: TableSpec, source: TableSpec) -> int | None:
    built = last_build(spark, cfg, target, source)
    return None if built is None else built[0]


def last_build(spark: SparkSession, cfg: JobConfig, target: TableSpec, source: TableSpec) -> tuple[int, int | None] | None:
    """(source version, target version) of the newest build of `target` from `source`, or None."""
    if not table_exists(spark, cfg, TABLE_BUILDS):
        return None
    row = (read_table(spark, cfg, TABLE_BUILDS)
           .where((F.col("target") == target.full_name) & (F.col("source") == source.full_name))
           .orderBy(F.col("source_version").desc(), F.col("built_ts").desc()).select("source_version", "target_version")
           .first())
    return None if row is None else (int(row[0]), None if row[1] is None else int(row[1]))


def consumed_versions(spark: SparkSession, cfg: JobConfig, target: TableSpec) -> dict[str, int]:
    """Source full name -> the newest version `target` was built from, in one read."""
    if not table_exists(spark, cfg, TABLE_BUILDS):
        return {}
    rows = (read_table(spark, cfg, TABLE_BUILDS).where(F.col("target") == target.full_name)
            .groupBy("source").agg(F.max("source_version").alias("v")).collect())
    return {row["source"]: int(row["v"]) for row in rows}


def build_row(ctx: RunContext, target: TableSpec, source: str, source_version: int, start: dt.date | None,
              end: dt.date | None, target_version: int | None) -> tuple:
    """One ops.table_builds row: `target` (at `target_version`, None if this build wrote
    nothing) was built from version `source_version` of `source`."""
    built = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return (target.full_name, source, source_version, start, end, target_version, ctx.run_id, code_version(), built)


def append_builds(spark: SparkSession, cfg: JobConfig, rows: list[tuple]) -> None:
    """Record build_row rows, in one commit."""
    append_rows(spark.createDataFrame(rows, TABLE_BUILDS.schema), cfg, TABLE_BUILDS)


def record_builds(spark: SparkSession, cfg: JobConfig, ctx: RunContext, target: TableSpec,
                  sources: dict[str, int], start: dt.date | None, end: dt.date | None,
                  target_commit: Commit | None) -> None:
    """record_build for several sources at once, in one commit."""
    target_version = target_commit.version if target_commit else None
    append_builds(spark, cfg, [build_row(ctx, target, source, version, start, end, target_version)
                               for source, version in sorted(sources.items())])


def record_build(spark: SparkSession, cfg: JobConfig, ctx: RunContext, target: TableSpec, source: TableSpec,
                 source_version: int, start: dt.date | None, end: dt.date | None,
                 target_commit: Commit | None) -> None:
    append_builds(spark, cfg, [build_row(ctx, target, source.full_name, source_version, start, end,
                                         target_commit.version if target_commit else None)])
