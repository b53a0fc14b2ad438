"""Incremental processing with Spark's streaming sources and an available-now trigger.

The checkpoint records what each micro-batch took before the batch runs; a batch that
was interrupted is replayed with the same input and batch id, so batch handlers write
idempotently (MERGE insert-only on a key, or Delta txnAppId/txnVersion).
"""
from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame

from jobs.common.config import JobConfig, resolve_path
from schemas.spec import TableSpec


def checkpoint_dir(cfg: JobConfig, spec: TableSpec, reader: str = "") -> str:
    suffix = f"/{reader}" if reader else ""
    return f"{resolve_path(cfg.paths.checkpoints).rstrip('/')}/{spec.layer}/{spec.name}{suffix}"


def process_available(stream: DataFrame, checkpoint: str, name: str,
                      handler: Callable[[DataFrame, int], None]) -> None:
    """Hand every input not yet processed to `handler`, batch by batch, then return."""
    query = (stream.writeStream
             .queryName(name)
             .foreachBatch(handler)
             .option("checkpointLocation", checkpoint)
             .trigger(availableNow=True)
             .start())
    query.awaitTermination()
