"""Rejected records, shaped for ops.quarantine."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F


def to_quarantine(rejected: DataFrame, source: str, run_id: str, quarantined_ts: dt.datetime) -> DataFrame:
    """Rows with `value`, `reject_reason` and `_source_file` as ops.quarantine rows.

    record_key identifies the physical line: its file, its text, and which repeat of that
    text within the file it is, so a replayed batch maps to the same keys."""
    repeat = Window.partitionBy("_source_file", "value").orderBy("value")
    return (rejected
            .withColumn("_repeat", F.row_number().over(repeat))
            .select(
                F.lit(source).alias("source"),
                F.col("reject_reason").alias("reason"),
                F.col("value").alias("raw"),
                F.sha2(F.concat_ws("\n", F.col("_source_file"), F.coalesce("value", F.lit("")),
                                   F.col("_repeat").cast("string")), 256).alias("record_key"),
                F.col("_source_file").alias("source_file"),
                F.lit(run_id).alias("run_id"),
                F.lit(quarantined_ts).cast("timestamp").alias("quarantined_ts"),
                F.lit(quarantined_ts.date()).alias("quarantine_date"),
            ))
