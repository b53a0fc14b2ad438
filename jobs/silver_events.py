"""bronze.events_raw -> silver.events, and every rejected line -> ops.quarantine.

Reads only the bronze rows not yet processed (a streaming read of the bronze table with
its own checkpoint). Each line is parsed against the collector's contract; timestamps in
every supported format and offset become UTC, event_date is the business date in
business.time_zone. Malformed JSON, missing required fields, unparseable or pre-2000
timestamps, clocks more than an hour ahead of delivery and unknown event types go to
ops.quarantine with a reason code and the raw line. Valid events are deduplicated by
event_id against everything already in silver (MERGE, insert-only), emails and IPs are
replaced by a keyed hash (key from the environment variable named by
secrets.pseudonym_key_env), and unknown new top-level fields are kept in _rescued.
"""
from __future__ import annotations

import logging

from pyspark import StorageLevel
from pyspark.sql import functions as F

from jobs.common.io import merge_into, read_table, table_path
from jobs.common.runs import RunStats
from jobs.common.streams import checkpoint_dir, process_available
from schemas.bronze import EVENTS_RAW
from schemas.events import EVENTS, KNOWN_EVENT_TYPES
from schemas.ops import QUARANTINE
from transformations.common import conform
from transformations.events import dedupe_events, parse_events, pseudonymise
from transformations.quarantine import to_quarantine

SUMMARY = "bronze.events_raw -> silver.events (typed, UTC, deduplicated, PII hashed) + ops.quarantine"
DATES = None
log = logging.getLogger(__name__)


def check_inputs(cfg, args) -> None:
    cfg.secret(cfg.secrets.pseudonym_key_env)


def run(spark, cfg, args, ctx):
    read_table(spark, cfg, EVENTS_RAW)  # a clear error if bronze was never built
    key = spark.createDataFrame([(cfg.secret(cfg.secrets.pseudonym_key_env),)], "pseudonym_key string")
    time_zone = cfg.business.time_zone
    stats = RunStats()

    def handle(batch, batch_id: int) -> None:
        parsed = parse_events(batch, time_zone, KNOWN_EVENT_TYPES).persist(StorageLevel.MEMORY_AND_DISK)
        outcome = {r["reject_reason"]: r["count"] for r in parsed.groupBy("reject_reason").count().collect()}
        rejected = {reason: n for reason, n in outcome.items() if reason is not None}
        if rejected:
            quarantine = to_quarantine(parsed.where(F.col("reject_reason").isNotNull()), "events",
                                       ctx.run_id, ctx.started_ts)
            stats.add(merge_into(quarantine, cfg, QUARANTINE, insert_only=True, target_filter="t.source = 'events'"))
        valid = parsed.where(F.col("reject_reason").isNull())
        events = conform(pseudonymise(dedupe_events(valid), key, {"ip_hash": "ip", "email_hash": "email"}), EVENTS)
        dates = [row[0] for row in valid.select("event_date").distinct().collect()]
        if dates:
            in_dates = ", ".join(f"DATE'{d.isoformat()}'" for d in dates)
            stats.add(merge_into(events, cfg, EVENTS, insert_only=True, target_filter=f"t.event_date IN ({in_dates})"))
        parsed.unpersist()
        for reason, n in rejected.items():
            stats.rows_quarantined[reason] = stats.rows_quarantined.get(reason, 0) + n
        stats.rows_read[EVENTS_RAW.full_name] = stats.rows_read.get(EVENTS_RAW.full_name, 0) + sum(outcome.values())
        log.info("silver.events batch %d: %d lines, %d valid, quarantined %s", batch_id, sum(outcome.values()),
                 outcome.get(None, 0), rejected or "nothing")

    source = spark.readStream.format("delta").load(table_path(cfg, EVENTS_RAW)) \
        .select("value", "_source_file", "_ingested_at", "_batch_id")
    process_available(source, checkpoint_dir(cfg, EVENTS, "from_bronze"), "silver_events", handle)
    return stats
