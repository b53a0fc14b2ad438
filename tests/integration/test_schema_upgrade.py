"""A table that an earlier version of the project wrote, before its contract gained a column:
silver.sessions without funnel_steps and days (added on 2026-12-05) is rebuilt once, with
them, and the gold tables that read it follow through its change feed."""
import datetime as dt
import logging

from jobs.common.io import append, missing_columns, read_table, table_path
from schemas.events import EVENTS, SESSIONS
from schemas.gold import FUNNEL_DAILY, USER_ACTIVITY
from tests.conftest import session_event, silver_events
from tests.integration.world_helpers import run_jobs

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
