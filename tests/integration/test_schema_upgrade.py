"""A table that an earlier version of the project wrote, before its contract gained a column:
silver.sessions without funnel_steps and days (added on 2026-12-05) is rebuilt once, with
them, and the gold tables that read it follow through its change feed; and a table created
before its spec named the columns its files keep statistics of takes them from its next write."""
import dataclasses
import datetime as dt
import logging

import pytest

from jobs.common.delta_log import table_property
from jobs.common.io import STATS_COLUMNS, append, missing_columns, read_table, table_path
from schemas.events import EVENTS, SESSIONS
from schemas.gold import FUNNEL_DAILY, USER_ACTIVITY
from tests.conftest import session_event, silver_events
from tests.integration.world_helpers import file_statistics, run_jobs

D1, D2 = dt.date(2024, 3, 1), dt.date(2024, 3, 2)


def rows(spark, cfg, spec, *order):
    return read_table(spark, cfg, spec).orderBy(*order).collect()


def test_sessions_written_before_funnel_steps_and_days_are_rebuilt_once_with_them(spark, cfg, caplog):
    noon, next_noon = dt.datetime(2024, 3, 1, 12), dt.datetime(2024, 3, 2, 12)
    append(silver_events(spark,
                         session_event("a", "a1", noon, "page_view", "/products/1"),
                         session_event("a", "a2", noon + dt.timedelta(minutes=1), "add_to_cart"),
                         session_event("b", "b1", next_noon, "page_view", "/products/2"),
                         session_event("c", "c1", next_noon, "page_view", "/")), cfg, EVENTS)
    run_jobs(spark, cfg, "silver_sessions", "gold_funnel", "gold_user_activity")
    sessions = rows(spark, cfg, SESSIONS, "session_id")
    funnel = rows(spark, cfg, FUNNEL_DAILY, "business_date")
    activity = rows(spark, cfg, USER_ACTIVITY, "activity_date", "person_id")
    steps = {r["anonymous_id"]: r["funnel_steps"] for r in sessions}
    assert steps == {"a": 2, "b": 1, "c": 0}
    assert [(r[0], r[1], r[2], r[4]) for r in funnel] == [(D1, 1, 1, 1), (D2, 2, 1, 0)]
    assert [(r["activity_date"], r["person_id"], r["events"]) for r in activity] == [(D1, "a", 2), (D2, "b", 1),
                                                                                      (D2, "c", 1)]

    # the table as an earlier version left it: the same sessions without the columns, its
    # ledger up to date with silver.events
    (read_table(spark, cfg, SESSIONS).drop("funnel_steps", "days").write.format("delta").mode("overwrite")
     .option("overwriteSchema", "true").save(table_path(cfg, SESSIONS)))
    assert missing_columns(spark, cfg, SESSIONS) == ["funnel_steps", "days"]

    with caplog.at_level(logging.WARNING, logger="jobs.silver_sessions"):
        outcome, = run_jobs(spark, cfg, "silver_sessions")
    assert "silver.sessions lacks funnel_steps, days" in caplog.text
    assert outcome.stats.commits  # rebuilt although silver.events did not change
    assert missing_columns(spark, cfg, SESSIONS) == []
    assert rows(spark, cfg, SESSIONS, "session_id") == sessions  # every row, as a fresh build wrote it

    run_jobs(spark, cfg, "gold_funnel", "gold_user_activity")  # read the change feed across the added columns
    assert rows(spark, cfg, FUNNEL_DAILY, "business_date") == funnel
    assert rows(spark, cfg, USER_ACTIVITY, "activity_date", "person_id") == activity
    assert not run_jobs(spark, cfg, "silver_sessions")[0].stats.commits  # once, not every run


def test_a_table_from_before_stats_columns_gets_them_and_keeps_its_older_files_statistics(spark, cfg):
    at = dt.datetime(2024, 3, 1, 12)
    path = table_path(cfg, EVENTS)
    # as an earlier version created it: statistics of every column (the first 32)
    silver_events(spark, session_event("a", "a1", at, "page_view")).write.format("delta") \
        .partitionBy(*EVENTS.partition_by).save(path)
    assert table_property(spark, path, STATS_COLUMNS) is None
    append(silver_events(spark, session_event("b", "b1", at, "click", user_id=7)), cfg, EVENTS)

    assert table_property(spark, path, STATS_COLUMNS) == "event_id,event_type,event_ts,anonymous_id,user_id"
    old, new = (set(stats.get("minValues", {})) for stats in file_statistics(cfg, EVENTS))
    assert {"_source_file", "_batch_id", "event_id"} <= old  # written before: left as it was
    assert new == {"event_id", "event_type", "event_ts", "anonymous_id", "user_id"}
    assert [r.event_id for r in read_table(spark, cfg, EVENTS).where("user_id = 7").collect()] == ["b1"]


def test_stats_columns_must_be_columns_of_the_table_and_not_its_partitions():
    for columns in (("event_id", "no_such_column"), ("event_date",), ()):
        with pytest.raises(ValueError, match="stats_columns"):
            dataclasses.replace(EVENTS, stats_columns=columns)
