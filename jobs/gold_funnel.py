"""silver.sessions -> gold.funnel_daily, for the session dates that changed.

A session counts on the business date it started, with the funnel steps silver_sessions
walked through its events (silver.sessions.funnel_steps), so only the sessions are read.
"""
from __future__ import annotations

from pyspark.sql import functions as F

from jobs.common.gold import GoldBuild, add_rebuild_option, dates_frame, run_build
from schemas.events import SESSIONS
from schemas.gold import FUNNEL_DAILY
from transformations.common import conform
from transformations.gold.funnel import funnel_daily

SUMMARY = "silver.sessions -> gold.funnel_daily (sessions reaching each step; changed dates)"
DATES = "optional"


def touched(ctx, changed):
    return ctx.dates(ctx.changes(SESSIONS, changed), "session_date")


def compute(ctx, dates):
    sessions = ctx.read(SESSIONS).where(F.col("session_date").isin(dates)).select("session_date", "funnel_steps")
    return conform(funnel_daily(dates_frame(ctx.spark, dates), sessions), FUNNEL_DAILY)


BUILD = GoldBuild(FUNNEL_DAILY, (SESSIONS,), touched, compute)


def add_arguments(parser):
    add_rebuild_option(parser)


def run(spark, cfg, args, ctx):
    return run_build(spark, cfg, args, ctx, BUILD)
