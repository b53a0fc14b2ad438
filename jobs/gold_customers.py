"""silver.sessions + facts -> gold.customers: each user's first-touch channel and first
captured order.

Recomputed from all sessions and payments when either changed, then MERGEd: only users
whose channel or first order changed are rewritten, and the change feed tells daily_kpis
and marketing_daily which dates to rebuild.
"""
from __future__ import annotations

from jobs.common.gold import GoldBuild, add_rebuild_option, run_build
from jobs.common.io import any_column_differs, merge_into
from schemas.events import SESSIONS
from schemas.gold import CUSTOMERS
from schemas.oltp import FACT_ORDERS, FACT_PAYMENTS
from transformations.common import conform
from transformations.gold.revenue import captured_orders, customers

SUMMARY = "silver.sessions + fact_payments/fact_orders -> gold.customers (first touch, first order; MERGE)"
DATES = "optional"


def compute(ctx, dates):
    captured = captured_orders(ctx.read(FACT_PAYMENTS), ctx.read(FACT_ORDERS), ctx.zone)
    return conform(customers(ctx.read(SESSIONS), captured), CUSTOMERS)


def write(df, cfg, spec):
    return merge_into(df, cfg, spec, delete_missing=True, update_condition=any_column_differs(spec))


BUILD = GoldBuild(CUSTOMERS, (SESSIONS, FACT_PAYMENTS, FACT_ORDERS), touched=lambda ctx, changed: set(),
                  compute=compute, date_column=None, write=write)


def add_arguments(parser):
    add_rebuild_option(parser)


def run(spark, cfg, args, ctx):
    return run_build(spark, cfg, args, ctx, BUILD)
