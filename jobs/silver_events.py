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
import math

from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.common.refine import refine_lines
from jobs.common.secrets import require_pseudonym_key
from schemas.bronze import EVENTS_RAW
from schemas.events import EVENTS, KNOWN_EVENT_TYPES
from transformations.common import conform
from transformations.events import dedupe_events, first_copies, parse_events, pseudonymise, repeated_event_ids

SUMMARY = "bronze.events_raw -> silver.events (typed, UTC, deduplicated, PII hashed) + ops.quarantine"
DATES = None
# The repeated events are ranked and written by one task per this many of their rows: a few
# percent of a batch, so they add a file or two per date. (8 tasks write 2M rows each at 16M.)
REPEATED_ROWS_PER_TASK = 2_000_000

log = logging.getLogger(__name__)


def check_inputs(cfg, args) -> None:
    require_pseudonym_key(cfg)


def run(spark, cfg, args, ctx):
    time_zone = cfg.business.time_zone
    kept: list[DataFrame] = []
    try:
        return refine_lines(
            spark, cfg, ctx, EVENTS_RAW, EVENTS, "events",
            parse=lambda lines: parse_events(lines, time_zone, KNOWN_EVENT_TYPES),
            shape=lambda valid, key: shape(valid, key, kept, cfg.silver.dedupe_broadcast_max_ids),
            date_column="event_date", pseudonymised=True)
    finally:
        for frame in kept:
            frame.unpersist()


def shape(valid: DataFrame, key: DataFrame, kept: list[DataFrame], max_broadcast_ids: int) -> DataFrame:
    """The valid parsed lines as silver.events: deduplicated, PII hashed."""
    return conform(pseudonymise(dedupe(valid, kept, max_broadcast_ids), key, {"ip_hash": "ip", "email_hash": "email"}),
                   EVENTS)


def dedupe(valid: DataFrame, kept: list[DataFrame], max_broadcast_ids: int) -> DataFrame:
    """One row per event id, ranking only the repeated ids' rows while they are few enough to
    broadcast (silver.dedupe_broadcast_max_ids), else every row.

    The repeated ids are found once and cached, since both halves of the dedupe read them
    (uncached, each would count them again over the lines). A cache, not a local checkpoint:
    on a cluster a lost executor's cached blocks are computed again, where a checkpoint's
    would fail the job. `kept` holds it until the next batch, or for run() to release after
    the last one, so the cached ids of one batch at most are held."""
    while kept:  # the batch before this one is written: its ids are read no more
        kept.pop().unpersist()
    repeated = repeated_event_ids(valid).persist(StorageLevel.MEMORY_AND_DISK)
    kept.append(repeated)
    ids, copies = repeated.agg(F.count(F.lit(1)), F.sum("copies")).first()  # this pass fills the cache
    if ids > max_broadcast_ids:
        kept.pop().unpersist()  # only the count needed them
        log.warning("silver.events: %d event ids repeat in this batch, more than silver.dedupe_broadcast_max_ids "
                    "(%d) allows to broadcast; ranking every row instead (one more sort of the batch). Raise the "
                    "setting if the driver and executors have about 64 MiB per million ids to spare", ids,
                    max_broadcast_ids)
        return first_copies(valid)
    log.info("silver.events: %d event ids repeat in this batch, on %d rows; only those are ranked", ids, copies or 0)
    return dedupe_events(valid, repeated, max(1, math.ceil((copies or 0) / REPEATED_ROWS_PER_TASK)))
