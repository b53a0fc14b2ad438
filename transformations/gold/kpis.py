"""gold.daily_kpis: money from the facts, behaviour from daily per-person activity."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from transformations.gold.common import business_date, ratio, zero

WAU_DAYS, MAU_DAYS = 7, 30


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


def activity_daily(dates: DataFrame, activity: DataFrame) -> DataFrame:
    """Per date: DAU (persons that are users), WAU and MAU (distinct users active in the 7 or
    30 dates ending on it), visitors (persons) and buyers (persons with a purchase). Reads the
    compact per-person activity of the window, never the raw events.

    Each activity row meets every date whose window holds it; one aggregation to a row per
    date and user (the anonymous persons of a date share one, user null) and a sum of those
    counts the three distinct numbers, which Spark would otherwise do by tripling the rows."""
    day = activity.alias("a")
    in_window = (dates.alias("d").join(
        day, (F.col("a.activity_date") <= F.col("d.business_date"))
        & (F.col("a.activity_date") > F.date_sub(F.col("d.business_date"), MAU_DAYS))))
    on_day = F.col("a.activity_date") == F.col("d.business_date")
    in_week = F.col("a.activity_date") > F.date_sub(F.col("d.business_date"), WAU_DAYS)
    per_user = (in_window.groupBy(F.col("d.business_date").alias("business_date"), F.col("a.user_id").alias("user_id"))
                .agg(F.max(on_day).alias("_today"), F.max(in_week).alias("_this_week"),
                     F.count(F.when(on_day, F.lit(1))).alias("_persons"),
                     F.count(F.when(on_day & F.col("a.purchased"), F.lit(1))).alias("_buyers")))
    is_user = F.col("user_id").isNotNull()
    return (per_user.groupBy("business_date")
            .agg(F.count(F.when(is_user & F.col("_today"), F.lit(1))).alias("dau"),
                 F.count(F.when(is_user & F.col("_this_week"), F.lit(1))).alias("wau"),
                 F.count(F.when(is_user, F.lit(1))).alias("mau"),
                 F.sum("_persons").alias("visitors"), F.sum("_buyers").alias("buyers")))


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
