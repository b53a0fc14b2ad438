"""Exactly-once ingestion of landing files into a bronze table, one row per line.

Spark's file-stream source with an available-now trigger is the ledger: its checkpoint
records which files each micro-batch took, before the batch runs. Each batch is written
to Delta with txnAppId/txnVersion, so a batch replayed after a crash (committed to Delta,
not yet to the checkpoint) is skipped by Delta instead of written twice. A file is
therefore ingested once, a new file is picked up by the next run, and a run killed at any
point and rerun leaves no duplicate and no gap.

The checkpoint belongs to the table: delete both or neither.
"""
from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common.config import JobConfig, resolve_path
from jobs.common.io import InputError, append, current_version, ensure_table, read_table
from jobs.common.runs import RunContext, RunStats
from jobs.common.streams import checkpoint_dir, process_available
from schemas.spec import TableSpec

log = logging.getLogger(__name__)

def landing_dir(cfg: JobConfig, source: str) -> str:
    return f"{resolve_path(cfg.paths.landing).rstrip('/')}/{source}"


def require_directory(path: str, what: str) -> None:
    """A missing local input directory is a user error, reported before Spark starts."""
    if "://" not in path and not Path(path).is_dir():
        raise InputError(f"input directory for {what} does not exist: {path}")


def ingest_lines(spark: SparkSession, cfg: JobConfig, spec: TableSpec, source: str,
                 ctx: RunContext, file_glob: str = "*") -> RunStats:
    """Append every not-yet-ingested file under landing/<source>/ to `spec`, line by line."""
    source_dir = landing_dir(cfg, source)
    require_directory(source_dir, source)
    checkpoint = checkpoint_dir(cfg, spec)
    app_id = f"{spec.full_name}/{_checkpoint_identity(checkpoint)}"
    ensure_table(spark, cfg, spec)
    stats = RunStats()

    def write_batch(batch: DataFrame, batch_id: int) -> None:
        tag = f"{ctx.run_id}:{batch_id}"
        ingested_at = F.lit(ctx.started_ts).cast("timestamp")
        rows = (batch
                .withColumn("_ingested_at", ingested_at)
                .withColumn("_batch_id", F.lit(tag))
                .withColumn("_ingest_date", F.to_date(ingested_at)))
        before = current_version(spark, cfg, spec)
        commit = append(rows, cfg, spec, txn=(app_id, batch_id))
        if commit.version != before:
            # Count the lines per file from what this commit wrote (two small columns, pruned to
            # the partition and batch), rather than caching the batch: that cost more than the write.
            written = (read_table(spark, cfg, spec, version=commit.version)
                       .where((F.col("_ingest_date") == F.to_date(ingested_at)) & (F.col("_batch_id") == tag)))
        else:  # a batch replayed after a crash, which Delta skipped as already written
            written = batch
        per_file = written.groupBy("_source_file").count().collect()  # one row per file of the batch
        stats.add(commit)
        for row in per_file:
            stats.input_files.append(row["_source_file"])
            stats.rows_read[row["_source_file"]] = int(row["count"])
        log.info("%s batch %d: %d files, %d lines -> version %d", spec.full_name, batch_id,
                 len(per_file), sum(r["count"] for r in per_file), commit.version)

    lines = (spark.readStream.format("text")
             .option("maxFilesPerTrigger", cfg.ingest.max_files_per_batch)
             .option("maxFileAge", "36500d")  # late files keep their old mtime; never ignore them
             .option("pathGlobFilter", file_glob)
             .option("recursiveFileLookup", "true")
             .load(source_dir)
             .select("value", F.col("_metadata.file_path").alias("_source_file")))
    process_available(lines, checkpoint, f"ingest_{spec.name}", write_batch)
    if not stats.commits:
        log.info("%s: no new files under %s", spec.full_name, source_dir)
    return stats


def _checkpoint_identity(checkpoint: str) -> str:
    """A random id stored beside the checkpoint, so Delta's idempotent-write ids restart
    cleanly if someone deletes the checkpoint (and with it the batch numbering)."""
    if "://" in checkpoint:
        return checkpoint
    os.makedirs(checkpoint, exist_ok=True)
    marker = Path(checkpoint) / "_ingest_id"
    if not marker.exists():
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(uuid.uuid4().hex)
        tmp.replace(marker)
    return marker.read_text().strip()
