"""silver.sessions + silver.events -> gold.funnel_daily, for the session dates that changed.

A session counts on the business date it started; its events are read up to the day after,
so a session that runs past midnight is walked whole.
"""
from __future__ import annotations

from pyspark.sql import functions as F

from jobs.common.gold import DAY, GoldBuild, add_rebuild_option, dates_frame, run_build, shift
from schemas.events import EVENTS, SESSIONS
from schemas.gold import FUNNEL_DAILY
from transformations.common import conform
from transformations.gold.activity import events_in_sessions
from transformations.gold.funnel import funnel_daily, session_steps

SUMMARY = "silver.sessions + silver.events -> gold.funnel_daily (sessions reaching each step; changed dates)"
DATES = "optional"


def touched(ctx, changed):
    events = ctx.dates(ctx.changes(EVENTS, changed), "event_date")
    return ctx.dates(ctx.changes(SESSIONS, changed), "session_date") | shift(events, before=1)


def compute(ctx, dates):
    sessions = ctx.read(SESSIONS).where(F.col("session_date").isin(dates))
    events = ctx.read(EVENTS).where(F.col("event_date").between(min(dates), max(dates) + DAY))
    steps = session_steps(events_in_sessions(events, sessions))
    return conform(funnel_daily(dates_frame(ctx.spark, dates), steps), FUNNEL_DAILY)


BUILD = GoldBuild(FUNNEL_DAILY, (SESSIONS, EVENTS), touched, compute)


def add_arguments(parser):
    add_rebuild_option(parser)


def run(spark, cfg, args, ctx):
    return run_build(spark, cfg, args, ctx, BUILD)
