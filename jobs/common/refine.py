"""The shape every bronze-lines -> silver job shares: parse each new line, quarantine the
rejected ones with their reason, MERGE the valid ones insert-only by key (so a replayed
batch or a line seen again changes nothing), pruned to the dates the batch touches."""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common.config import JobConfig
from jobs.common.io import merge_into, read_table, table_path
from jobs.common.runs import RunContext, RunStats
from jobs.common.secrets import pseudonym_key_frame
from jobs.common.session import sql_settings
from jobs.common.streams import checkpoint_dir, process_available
from schemas.ops import QUARANTINE
from schemas.spec import TableSpec
from transformations.quarantine import to_quarantine

log = logging.getLogger(__name__)

# The parsed batch is read by five passes after the one that builds its cache (the
# quarantine's, the dedupe's and the write), so it is cached: on local disk, as Spark's columns
# uncompressed. Compressing them was a fifth of silver_events' time, spent mostly hashing ids
# that do not compress; held uncompressed in the heap, 2.2 GB at 16M events doubled the write's
# garbage collection. On disk (in the OS's page cache where there is room) each read
# deserializes the batch, which costs less than the compression did, and the heap keeps its
# room for the work (docs/PERFORMANCE.md).
PARSED_CACHE = StorageLevel.DISK_ONLY
PARSED_CACHE_SETTINGS = {"spark.sql.inMemoryColumnarStorage.compressed": "false"}


def refine_lines(spark: SparkSession, cfg: JobConfig, ctx: RunContext, source: TableSpec, target: TableSpec,
                 quarantine_source: str, parse: Callable[[DataFrame], DataFrame],
                 shape: Callable[..., DataFrame], date_column: str,
                 quarantine_key: Column | None = None, pseudonymised: bool = False) -> RunStats:
    """Process the rows of `source` not yet seen; `parse` adds reject_reason, `shape` turns
    the valid rows into `target`'s contract. With `pseudonymised`, `shape` also takes the
    key frame (keyword `key`), and `target` is held to the key (secrets.pseudonym_key_frame)."""
    read_table(spark, cfg, source)  # a clear error if the bronze table was never built, before target is touched
    if pseudonymised:
        shape = functools.partial(shape, key=pseudonym_key_frame(spark, cfg, hashed_into=(target,)))
    stats = RunStats()

    def handle(batch: DataFrame, batch_id: int) -> None:
        # the raw line is needed only by the quarantine: cache it for rejected rows alone
        with sql_settings(batch.sparkSession, PARSED_CACHE_SETTINGS):  # until the first read has built the cache
            parsed = (parse(batch)
                      .withColumn("value", F.when(F.col("reject_reason").isNotNull(), F.col("value")))
                      .persist(PARSED_CACHE))
            # one pass over the cache for both the outcome and the dates the valid rows touch
            counts = parsed.groupBy("reject_reason", date_column).count().collect()
        outcome: dict[str | None, int] = {}
        for row in counts:
            outcome[row["reject_reason"]] = outcome.get(row["reject_reason"], 0) + row["count"]
        dates = sorted({row[date_column] for row in counts if row["reject_reason"] is None})
        rejected = {reason: n for reason, n in outcome.items() if reason is not None}
        if rejected:
            quarantine = to_quarantine(parsed.where(F.col("reject_reason").isNotNull()), quarantine_source,
                                       ctx.run_id, ctx.started_ts, quarantine_key)
            stats.add(merge_into(quarantine, cfg, QUARANTINE, insert_only=True,
                                 target_filter=f"t.source = '{quarantine_source}'"))
        valid = parsed.where(F.col("reject_reason").isNull())
        if dates:
            in_dates = ", ".join(f"DATE'{d.isoformat()}'" for d in dates)
            stats.add(merge_into(shape(valid), cfg, target, insert_only=True,
                                 target_filter=f"t.{date_column} IN ({in_dates})"))
        parsed.unpersist()
        for reason, n in rejected.items():
            stats.rows_quarantined[reason] = stats.rows_quarantined.get(reason, 0) + n
        stats.rows_read[source.full_name] = stats.rows_read.get(source.full_name, 0) + sum(outcome.values())
        log.info("%s batch %d: %d lines, %d valid, quarantined %s", target.full_name, batch_id,
                 sum(outcome.values()), outcome.get(None, 0), rejected or "nothing")

    lines = (spark.readStream.format("delta").option("maxFilesPerTrigger", cfg.silver.max_files_per_batch)
             .load(table_path(cfg, source))
             .select("value", "_source_file", "_ingested_at", "_batch_id"))
    process_available(lines, checkpoint_dir(cfg, target, f"from_{source.name}"), f"refine_{target.name}", handle)
    return stats
