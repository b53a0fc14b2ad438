"""silver.events -> silver.sessions, rebuilding only the dates new or late events touched.

The change feed of silver.events since the version this table was last built from names
the event dates that changed; sessions starting from the day before the first of them to
the day after the last are rebuilt (replaceWhere on session_date), reading one more day
on each side so a session that crosses midnight is seen whole. ops.table_builds records
the version consumed.
"""
from __future__ import annotations

import datetime as dt
import logging

from pyspark.sql import functions as F

from jobs.common.io import InputError, changed_values, current_version, overwrite_range, read_table
from jobs.common.ledger import last_source_version, record_build
from jobs.common.runs import RunStats
from schemas.events import EVENTS, SESSIONS
from transformations.common import conform
from transformations.sessions import sessionize

SUMMARY = "silver.events -> silver.sessions (30-minute sessions, stitched to users; changed dates only)"
DATES = None
log = logging.getLogger(__name__)
DAY = dt.timedelta(days=1)


def run(spark, cfg, args, ctx):
    stats = RunStats()
    source_version = current_version(spark, cfg, EVENTS)
    if source_version is None:
        raise InputError("silver.events does not exist yet: run silver_events first")
    consumed = last_source_version(spark, cfg, SESSIONS, EVENTS)
    if consumed == source_version:
        log.info("silver.sessions is up to date with silver.events version %d", source_version)
        return stats
    dates = changed_values(spark, cfg, EVENTS, "event_date", -1 if consumed is None else consumed, source_version)
    if not dates:
        record_build(spark, cfg, ctx, SESSIONS, EVENTS, source_version, None, None, None)
        return stats
    first, last = dates[0] - DAY, dates[-1] + DAY
    events = (read_table(spark, cfg, EVENTS, version=source_version)
              .where(F.col("event_date").between(first - DAY, last + DAY)))
    sessions = sessionize(events, cfg.business.time_zone).where(F.col("session_date").between(first, last))
    commit = stats.add(overwrite_range(conform(sessions, SESSIONS), cfg, SESSIONS, "session_date", first, last))
    record_build(spark, cfg, ctx, SESSIONS, EVENTS, source_version, first, last, commit)
    log.info("silver.sessions rebuilt for %s..%s from silver.events version %d", first, last, source_version)
    return stats
