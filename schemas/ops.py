"""Ops contracts: what every run read, wrote, rejected and checked."""
from pyspark.sql import types as T

from schemas.spec import TableSpec

# Every job of every run appends a small file to ops.table_builds or ops.gold_builds, and the
# jobs after it read them: at 6,000 files (a year of nights) such a read took 4.8 s against
# 0.55 s for one file. A compaction costs 2-3 s, so a ledger is rewritten into one file once
# this many gather: about every fifth night (docs/NIGHT.md).
LEDGER_COMPACT_AT_FILES = 50

JOB_RUNS_SCHEMA = T.StructType([
    T.StructField("run_id", T.StringType(), nullable=False),
    T.StructField("job", T.StringType(), nullable=False),
    T.StructField("env", T.StringType(), nullable=False),
    T.StructField("status", T.StringType(), nullable=False),
    T.StructField("start_date", T.DateType(), nullable=True),
    T.StructField("end_date", T.DateType(), nullable=True),
    T.StructField("arguments", T.StringType(), nullable=True),
    T.StructField("started_ts", T.TimestampType(), nullable=False),
    T.StructField("ended_ts", T.TimestampType(), nullable=False),
    T.StructField("duration_ms", T.LongType(), nullable=False),
    T.StructField("input_files", T.ArrayType(T.StringType(), containsNull=False), nullable=False),
    T.StructField("rows_read", T.MapType(T.StringType(), T.LongType(), valueContainsNull=False), nullable=False),
    T.StructField("rows_written", T.MapType(T.StringType(), T.LongType(), valueContainsNull=False), nullable=False),
    T.StructField("rows_quarantined", T.MapType(T.StringType(), T.LongType(), valueContainsNull=False),
                  nullable=False),
    T.StructField("table_versions", T.MapType(T.StringType(), T.LongType(), valueContainsNull=False),
                  nullable=False),
    T.StructField("code_version", T.StringType(), nullable=False),
    T.StructField("error", T.StringType(), nullable=True),
    T.StructField("run_date", T.DateType(), nullable=False),
])

JOB_RUNS = TableSpec(
    "ops", "job_runs", JOB_RUNS_SCHEMA, partition_by=("run_date",), keys=("run_id",),
    description="One row per job run: inputs, rows written and quarantined, Delta versions, status.",
)

QUARANTINE_SCHEMA = T.StructType([
    T.StructField("source", T.StringType(), nullable=False),
    T.StructField("reason", T.StringType(), nullable=False),
    T.StructField("raw", T.StringType(), nullable=True),
    T.StructField("record_key", T.StringType(), nullable=True),
    T.StructField("source_file", T.StringType(), nullable=True),
    T.StructField("run_id", T.StringType(), nullable=False),
    T.StructField("quarantined_ts", T.TimestampType(), nullable=False),
    T.StructField("quarantine_date", T.DateType(), nullable=False),
])

QUARANTINE = TableSpec(
    "ops", "quarantine", QUARANTINE_SCHEMA, partition_by=("source",),
    keys=("source", "record_key"),
    description="Every rejected record: its source, reason code and raw text.",
)

TABLE_BUILDS_SCHEMA = T.StructType([
    T.StructField("target", T.StringType(), nullable=False),
    T.StructField("source", T.StringType(), nullable=False),
    T.StructField("source_version", T.LongType(), nullable=False),
    T.StructField("start_date", T.DateType(), nullable=True),
    T.StructField("end_date", T.DateType(), nullable=True),
    T.StructField("target_version", T.LongType(), nullable=True),
    T.StructField("run_id", T.StringType(), nullable=False),
    T.StructField("code_version", T.StringType(), nullable=False),
    T.StructField("built_ts", T.TimestampType(), nullable=False),
])

TABLE_BUILDS = TableSpec(
    "ops", "table_builds", TABLE_BUILDS_SCHEMA, keys=("target", "source", "source_version"),
    compact_at_files=LEDGER_COMPACT_AT_FILES,
    description="What each derived table's dates were rebuilt from: source table and version, run, code.",
)

GOLD_BUILDS_SCHEMA = T.StructType([
    T.StructField("table", T.StringType(), nullable=False),
    T.StructField("business_date", T.DateType(), nullable=True),
    T.StructField("input_versions", T.MapType(T.StringType(), T.LongType(), valueContainsNull=False),
                  nullable=False),
    T.StructField("target_version", T.LongType(), nullable=False),
    T.StructField("run_id", T.StringType(), nullable=False),
    T.StructField("code_version", T.StringType(), nullable=False),
    T.StructField("built_ts", T.TimestampType(), nullable=False),
])

GOLD_BUILDS = TableSpec(
    "ops", "gold_builds", GOLD_BUILDS_SCHEMA, keys=("table", "business_date", "target_version"),
    compact_at_files=LEDGER_COMPACT_AT_FILES,
    description="Every gold date written: from which input table versions, by which run and code version "
                "(business_date is null for a table rebuilt whole).",
)
