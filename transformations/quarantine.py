"""Rejected records, shaped for ops.quarantine."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F


def line_key() -> Column:
    """Identity of a physical line from columns value and _source_file: its file, its text,
    and which repeat of that text within the file it is (files are ingested whole, so a
    replayed batch gives every line the same key)."""
    repeat = Window.partitionBy("_source_file", "value").orderBy("value")
    return F.sha2(F.concat_ws("\n", F.col("_source_file"), F.coalesce("value", F.lit("")),
                              F.row_number().over(repeat).cast("string")), 256)


def to_quarantine(rejected: DataFrame, source: str, run_id: str, quarantined_ts: dt.datetime,
                  key: Column | None = None) -> DataFrame:
    """Rows with `value`, `reject_reason` and `_source_file` as ops.quarantine rows.

    record_key is `key` if given, else the line_key() of the line."""
    return (rejected
            .select(
                F.lit(source).alias("source"),
                F.col("reject_reason").alias("reason"),
                F.col("value").alias("raw"),
                (key if key is not None else line_key()).alias("record_key"),
                F.col("_source_file").alias("source_file"),
                F.lit(run_id).alias("run_id"),
                F.lit(quarantined_ts).cast("timestamp").alias("quarantined_ts"),
                F.lit(quarantined_ts.date()).alias("quarantine_date"),
            ))
