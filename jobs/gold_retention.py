"""dim_users + gold.user_activity_daily -> gold.retention_cohorts, rebuilt whole.

Every new day can add a week to every cohort, so the table (a few rows per cohort week) is
recomputed from the compact activity table whenever an input changed, in one commit.
"""
from __future__ import annotations

from jobs.common.gold import GoldBuild, add_rebuild_option, run_build
from schemas.gold import RETENTION_COHORTS, USER_ACTIVITY
from schemas.oltp import DIM_USERS
from transformations.common import conform
from transformations.gold.retention import retention_cohorts

SUMMARY = "dim_users + gold.user_activity_daily -> gold.retention_cohorts (weekly cohorts; rebuilt whole)"
DATES = "optional"


def compute(ctx, dates):
    first, last = ctx.calendar
    return conform(retention_cohorts(ctx.read(DIM_USERS), ctx.read(USER_ACTIVITY), ctx.zone, first, last),
                   RETENTION_COHORTS)


BUILD = GoldBuild(RETENTION_COHORTS, (USER_ACTIVITY, DIM_USERS), touched=lambda ctx, changed: set(),
                  compute=compute, date_column=None)


def add_arguments(parser):
    add_rebuild_option(parser)


def run(spark, cfg, args, ctx):
    return run_build(spark, cfg, args, ctx, BUILD)
