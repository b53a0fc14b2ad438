"""silver.ad_spend + facts + gold.customers -> gold.marketing_daily.

Spend by the ad-spend file's date; new customers and revenue by capture date, attributed to
the customer's first-touch channel. A customer whose channel changed (an earlier session
arrived late) touches every date they paid on.
"""
from __future__ import annotations

from pyspark.sql import functions as F

from jobs.common.gold import GoldBuild, add_rebuild_option, dates_frame, run_build
from jobs.common.gold_changes import paid_dates_of_changed_customers, payment_dates
from schemas.gold import CUSTOMERS, MARKETING_DAILY
from schemas.marketing import AD_SPEND
from schemas.oltp import FACT_ORDERS, FACT_PAYMENTS
from transformations.common import conform
from transformations.gold.marketing import marketing_daily
from transformations.gold.revenue import captured_orders

SUMMARY = "silver.ad_spend + facts + gold.customers -> gold.marketing_daily (CAC, ROAS per channel; changed dates)"
DATES = "optional"


def touched(ctx, changed):
    spend = ctx.dates(ctx.changes(AD_SPEND, changed), "spend_date")
    return spend | payment_dates(ctx, changed) | paid_dates_of_changed_customers(ctx, changed)


def compute(ctx, dates):
    spend = ctx.read(AD_SPEND)
    captured = captured_orders(ctx.read(FACT_PAYMENTS), ctx.read(FACT_ORDERS), ctx.zone)
    rows = marketing_daily(dates_frame(ctx.spark, dates), spend.where(F.col("spend_date").isin(dates)),
                           captured, ctx.read(CUSTOMERS), ctx.zone)
    return conform(rows, MARKETING_DAILY)


BUILD = GoldBuild(MARKETING_DAILY, (AD_SPEND, FACT_PAYMENTS, FACT_ORDERS, CUSTOMERS), touched, compute,
                  optional=(AD_SPEND,))


def add_arguments(parser):
    add_rebuild_option(parser)


def run(spark, cfg, args, ctx):
    return run_build(spark, cfg, args, ctx, BUILD)
