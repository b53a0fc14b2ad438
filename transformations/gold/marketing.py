"""gold.marketing_daily: spend, first-touch new customers and attributed revenue per channel."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from transformations.gold.common import business_date, ratio
from transformations.gold.revenue import DIRECT


def channels(spend: DataFrame, customers: DataFrame) -> DataFrame:
    """Every channel to report: those with spend, those customers came from, and direct."""
    known = spend.select("channel").union(customers.select("channel"))
    return known.union(known.sparkSession.createDataFrame([(DIRECT,)], "channel string")).distinct()


def marketing_daily(dates: DataFrame, spend: DataFrame, captured: DataFrame, customers: DataFrame,
                    zone: str) -> DataFrame:
    spent = spend.groupBy(F.col("spend_date").alias("business_date"), "channel").agg(F.sum("spend").alias("spend"))
    channel_of = customers.select("user_id", "channel")
    revenue = (captured.join(channel_of, "user_id", "left")
               .groupBy(F.col("paid_date").alias("business_date"),
                        F.coalesce("channel", F.lit(DIRECT)).alias("channel"))
               .agg(F.sum("amount").alias("attributed_revenue")))
    new = (customers.where(F.col("first_paid_ts").isNotNull())
           .groupBy(business_date("first_paid_ts", zone).alias("business_date"), "channel")
           .agg(F.count(F.lit(1)).alias("new_customers")))
    keys = ["business_date", "channel"]
    rows = (dates.crossJoin(channels(spend, customers)).join(spent, keys, "left").join(new, keys, "left")
            .join(revenue, keys, "left")
            .na.fill(0, ["spend", "attributed_revenue", "new_customers"]))
    return rows.select(
        "business_date", "channel", F.col("spend").cast("decimal(18,2)").alias("spend"), "new_customers",
        F.col("attributed_revenue").cast("decimal(18,2)").alias("attributed_revenue"),
        ratio("spend", "new_customers").alias("cac"), ratio("attributed_revenue", "spend").alias("roas"))
