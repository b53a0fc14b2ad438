"""silver.events -> silver.sessions, rebuilding only the devices and dates new or late events touched.

The change feed of silver.events since the version this table was last built from names
the devices and event dates that changed; sessions from the day before the first of those
dates to the day after the last are replaced (replaceWhere on session_date). Within them
only the devices with changed events get their sessions built again, from the day before
the first date of theirs to the day after the last (from their events over one more day on
each side, so a session that crosses midnight is seen whole); the other devices' sessions
are copied as they are, since a session depends only on its own device's events. A first
build sessionizes every event.
ops.table_builds records the version consumed. A table written by an earlier version of the
project, which lacks a column of the contract (funnel_steps and days, added on 2026-12-05),
is rebuilt whole once, with them.
"""
from __future__ import annotations

import datetime as dt
import logging

from pyspark.sql import functions as F

from jobs.common.io import (InputError, changed_rows, changed_values, current_version, missing_columns, overwrite_range,
                            read_table)
from jobs.common.ledger import last_source_version, record_build
from jobs.common.runs import RunStats
from jobs.common.session import sql_settings
from schemas.events import EVENTS, SESSIONS
from transformations.common import conform
from transformations.sessions import resessionize, sessionize

SUMMARY = "silver.events -> silver.sessions (30-minute sessions, stitched to users; changed devices and dates only)"
DATES = None
log = logging.getLogger(__name__)
DAY = dt.timedelta(days=1)


def run(spark, cfg, args, ctx):
    stats = RunStats()
    source_version = current_version(spark, cfg, EVENTS)
    if source_version is None:
        raise InputError("silver.events does not exist yet: run silver_events first")
    consumed = last_source_version(spark, cfg, SESSIONS, EVENTS)
    added = missing_columns(spark, cfg, SESSIONS)
    if added:  # an earlier version wrote the table: every session is built again, with them
        log.warning("silver.sessions lacks %s (written by an earlier version of the project): rebuilding every "
                    "date to fill them in", ", ".join(added))
        consumed = None
    if consumed == source_version:
        log.info("silver.sessions is up to date with silver.events version %d", source_version)
        return stats
    # the devices and dates with changed events (a first build: every event, so only the dates)
    changed = None if consumed is None else (changed_rows(spark, cfg, EVENTS, consumed, source_version)
                                             .select("anonymous_id", "event_date").distinct().persist())
    try:
        dates = (changed_values(spark, cfg, EVENTS, "event_date", -1, source_version) if changed is None
                 else sorted(row[0] for row in changed.select("event_date").distinct().collect()))
        if not dates:
            record_build(spark, cfg, ctx, SESSIONS, EVENTS, source_version, None, None, None)
            return stats
        first, last = dates[0] - DAY, dates[-1] + DAY
        events = (read_table(spark, cfg, EVENTS, version=source_version)
                  .where(F.col("event_date").between(first - DAY, last + DAY)))
        if changed is None:
            sessions = sessionize(events, cfg.business.time_zone).where(F.col("session_date").between(first, last))
        else:
            before = read_table(spark, cfg, SESSIONS).where(F.col("session_date").between(first, last))
            sessions = resessionize(events, before, changed, cfg.business.time_zone)
        commit = write_sessions(sessions, cfg, first, last, add_columns=bool(added))
    finally:
        if changed is not None:
            changed.unpersist()
    stats.add(commit)
    record_build(spark, cfg, ctx, SESSIONS, EVENTS, source_version, first, last, commit)
    log.info("silver.sessions rebuilt for %s..%s from silver.events version %d", first, last, source_version)
    return stats


def write_sessions(sessions, cfg, first: dt.date, last: dt.date, add_columns: bool):
    """Replace the sessions of first..last by `sessions`."""
    # the devices' events, sorted once for the sessions, are then reduced by a sort-based
    # aggregation; collect_list would get the hash-based one, which past 128 sessions a task
    # sorts the rows all over again (at 16M: 95.4 s against 103.9 s for the job, docs/PERFORMANCE.md)
    with sql_settings(sessions.sparkSession, {"spark.sql.execution.useObjectHashAggregateExec": "false"}):
        return overwrite_range(conform(sessions, SESSIONS), cfg, SESSIONS, "session_date", first, last,
                               add_columns=add_columns)
