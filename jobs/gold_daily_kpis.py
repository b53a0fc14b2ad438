"""Facts, dim_users, gold.customers and gold.user_activity_daily -> gold.daily_kpis.

Revenue, orders and paying users come from the production facts; DAU, WAU, MAU, visitors
and buyers from the daily per-person activity. A change to activity on date d touches the
rolling windows of d .. d+29; a change to a payment touches its capture and refund dates.
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import functions as F

from jobs.common.gold import GoldBuild, add_rebuild_option, dates_frame, run_build, shift
from jobs.common.gold_changes import first_paid_dates, payment_dates, signup_dates
from schemas.gold import CUSTOMERS, DAILY_KPIS, USER_ACTIVITY
from schemas.oltp import DIM_USERS, FACT_ORDERS, FACT_PAYMENTS
from transformations.common import conform
from transformations.gold.kpis import MAU_DAYS, activity_daily, daily_kpis, money_daily, signups_daily
from transformations.gold.revenue import captured_orders, refunded_orders

SUMMARY = "facts + dim_users + gold activity/customers -> gold.daily_kpis (touched dates and windows only)"
DATES = "optional"


def touched(ctx, changed):
    activity = ctx.dates(ctx.changes(USER_ACTIVITY, changed), "activity_date")
    return (shift(activity, after=MAU_DAYS - 1) | signup_dates(ctx, changed) | payment_dates(ctx, changed)
            | first_paid_dates(ctx, changed))


def compute(ctx, dates):
    days = dates_frame(ctx.spark, dates)
    payments, orders = ctx.read(FACT_PAYMENTS), ctx.read(FACT_ORDERS)
    money = money_daily(days, captured_orders(payments, orders, ctx.zone), refunded_orders(payments, orders, ctx.zone),
                        ctx.read(CUSTOMERS), ctx.zone)
    window = ctx.read(USER_ACTIVITY).where(
        F.col("activity_date").between(min(dates) - dt.timedelta(days=MAU_DAYS - 1), max(dates)))
    activity = activity_daily(dates, window)
    return conform(daily_kpis(days, money, signups_daily(ctx.read(DIM_USERS), ctx.zone), activity), DAILY_KPIS)


BUILD = GoldBuild(DAILY_KPIS, (USER_ACTIVITY, FACT_PAYMENTS, FACT_ORDERS, DIM_USERS, CUSTOMERS), touched, compute)


def add_arguments(parser):
    add_rebuild_option(parser)


def run(spark, cfg, args, ctx):
    return run_build(spark, cfg, args, ctx, BUILD)
