"""gold.daily_kpis: money from the facts, behaviour from daily per-person activity."""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from transformations.gold.common import business_date, ratio, zero

WAU_DAYS, MAU_DAYS = 7, 30
_MASK_BITS = 63  # a long's bits, less the sign: activity_daily's days of one group of windows
_ACTIVITY_DAILY = "business_date date, dau long, wau long, mau long, visitors long, buyers long"


def money_daily(dates: DataFrame, captured: DataFrame, refunded: DataFrame, customers: DataFrame,
                zone: str) -> DataFrame:
    """Per business date: gross revenue, orders, paying users (by capture date), refunds (by
    refund date), new paying users (by first capture ever)."""
    gross = (captured.groupBy(F.col("paid_date").alias("business_date"))
             .agg(F.sum("amount").alias("gross_revenue"), F.countDistinct("order_id").alias("orders"),
                  F.countDistinct("user_id").alias("paying_users")))
    refunds = refunded.groupBy(F.col("refund_date").alias("business_date")).agg(F.sum("amount").alias("refunds"))
    new_paying = (customers.where(F.col("first_paid_ts").isNotNull())
                  .groupBy(business_date("first_paid_ts", zone).alias("business_date"))
                  .agg(F.count(F.lit(1)).alias("new_paying_users")))
    return (dates.join(gross, "business_date", "left").join(refunds, "business_date", "left")
            .join(new_paying, "business_date", "left"))


def signups_daily(users: DataFrame, zone: str) -> DataFrame:
    """Users by the business date their account was created (any version of dim_users)."""
    created = users.groupBy("user_id").agg(F.min("created_at").alias("created_at"))
    return (created.where(F.col("created_at").isNotNull())
            .groupBy(business_date("created_at", zone).alias("business_date"))
            .agg(F.count(F.lit(1)).alias("signups")))


def activity_daily(dates: Sequence[dt.date], activity: DataFrame) -> DataFrame:
    """Per date of `dates`: DAU (persons that are users), WAU and MAU (distinct users active in
    the 7 or 30 dates ending on it), visitors (persons) and buyers (persons with a purchase).
    Reads the compact per-person activity of the windows, never the raw events.

    Each user's active days become the bits of one number (day n after the first window's
    start: bit n), so a user is in a date's DAU, WAU or MAU when that number shares a bit with
    the date's day, last 7 or last 30 days: one aggregation to a row per user, then one to a
    row, with three counts per date. Dates are taken in groups that span at most 33 days, so
    that a group's windows fit in 63 bits."""
    groups: list[list[dt.date]] = []
    for day in sorted(set(dates)):
        if groups and (day - groups[-1][0]).days <= _MASK_BITS - MAU_DAYS:
            groups[-1].append(day)
        else:
            groups.append([day])
    parts = [_activity_of_group(group, activity) for group in groups]
    if not parts:
        return activity.sparkSession.createDataFrame([], _ACTIVITY_DAILY)
    return functools.reduce(DataFrame.unionByName, parts)


def _activity_of_group(dates: list[dt.date], activity: DataFrame) -> DataFrame:
    start = dates[0] - dt.timedelta(days=MAU_DAYS - 1)  # bit 0
    rows = activity.where(F.col("activity_date").between(start, dates[-1]))
    days = (rows.where(F.col("user_id").isNotNull()).groupBy("user_id")
            .agg(F.bit_or(F.expr(f"shiftleft(CAST(1 AS BIGINT), datediff(activity_date, DATE'{start}'))"))
                 .alias("days")))

    def active(date: dt.date, window: int) -> Column:
        last = (date - start).days
        bits = ((1 << window) - 1) << (last - window + 1)
        return F.count(F.when((F.col("days").bitwiseAND(F.lit(bits))) != 0, F.lit(1)))

    counts = days.agg(*[active(d, n).alias(f"{name}_{i}") for i, d in enumerate(dates)
                        for name, n in (("dau", 1), ("wau", WAU_DAYS), ("mau", MAU_DAYS))])
    users = counts.select(F.explode(F.array(*[
        F.struct(F.lit(d).alias("business_date"), *[F.col(f"{name}_{i}").alias(name) for name in ("dau", "wau", "mau")])
        for i, d in enumerate(dates)])).alias("d")).select("d.*")
    persons = (rows.where(F.col("activity_date").isin(dates)).groupBy(F.col("activity_date").alias("business_date"))
               .agg(F.count(F.lit(1)).alias("visitors"), F.count(F.when(F.col("purchased"), F.lit(1))).alias("buyers")))
    return (users.join(persons, "business_date", "left")  # a date with no one on it: 0 visitors and buyers
            .select("business_date", "dau", "wau", "mau", zero("visitors"), zero("buyers")))


def daily_kpis(dates: DataFrame, money: DataFrame, signups: DataFrame, activity: DataFrame) -> DataFrame:
    """One row per date of `dates`, every column of docs/METRICS.md#daily_kpis."""
    rows = dates.join(money, "business_date", "left").join(signups, "business_date", "left") \
        .join(activity, "business_date", "left")
    decimal = "decimal(18,2)"
    rows = rows.select("business_date", zero("gross_revenue", decimal), zero("refunds", decimal),
                       *[zero(c) for c in ("orders", "paying_users", "new_paying_users", "signups", "dau", "wau",
                                           "mau", "visitors", "buyers")])
    return rows.select(
        "business_date", "gross_revenue", "refunds",
        (F.col("gross_revenue") - F.col("refunds")).cast(decimal).alias("net_revenue"), "orders",
        ratio("gross_revenue", "orders").alias("average_order_value"), "signups", "dau", "wau", "mau",
        ratio("dau", "mau").alias("stickiness"), "paying_users", "new_paying_users",
        ratio("gross_revenue", "dau").alias("arpu"), ratio("gross_revenue", "paying_users").alias("arppu"),
        "visitors", "buyers", ratio("buyers", "visitors").alias("visitor_conversion"))
