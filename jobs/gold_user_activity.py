"""silver.sessions -> gold.user_activity_daily, for the dates that changed.

One row per business date and person with an event: the events of a session count for the
user it is stitched to, on the dates they fall on (silver.sessions.days, which
silver_sessions counts from the events). DAU, WAU, MAU, visitors and retention are computed
from this compact table, so a rolling 30-day window never rescans raw events.
"""
from __future__ import annotations

from pyspark.sql import functions as F

from jobs.common.gold import DAY, GoldBuild, add_rebuild_option, run_build, shift
from schemas.events import SESSIONS
from schemas.gold import USER_ACTIVITY
from transformations.common import conform
from transformations.gold.activity import daily_activity

SUMMARY = "silver.sessions -> gold.user_activity_daily (per date and person; changed dates)"
DATES = "optional"


def touched(ctx, changed):
    return shift(ctx.dates(ctx.changes(SESSIONS, changed), "session_date"), after=1)  # days may run past midnight


def compute(ctx, dates):
    sessions = (ctx.read(SESSIONS).where(F.col("session_date").between(min(dates) - DAY, max(dates)))
                .select("person_id", "user_id", "days"))
    activity = daily_activity(sessions).where(F.col("activity_date").isin(dates))
    return conform(activity, USER_ACTIVITY)


BUILD = GoldBuild(USER_ACTIVITY, (SESSIONS,), touched, compute, date_column="activity_date")


def add_arguments(parser):
    add_rebuild_option(parser)


def run(spark, cfg, args, ctx):
    return run_build(spark, cfg, args, ctx, BUILD)
