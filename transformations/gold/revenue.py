"""Money from the production facts: orders by the date their payment was captured or refunded,
and one row per customer (first-touch channel, first captured order)."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from transformations.gold.common import business_date

DIRECT = "direct"


def captured_orders(payments: DataFrame, orders: DataFrame, zone: str) -> DataFrame:
    """order_id, user_id, amount (the order total), paid_ts and paid_date of every order whose
    payment was captured (the first capture, if a client retried)."""
    paid = payments.where(F.col("paid_at").isNotNull()).groupBy("order_id").agg(F.min("paid_at").alias("paid_ts"))
    return (paid.join(orders.select("order_id", "user_id", F.col("total_amount").alias("amount")), "order_id")
            .withColumn("paid_date", business_date("paid_ts", zone)))


def refunded_orders(payments: DataFrame, orders: DataFrame, zone: str) -> DataFrame:
    """order_id, user_id, amount (the order total) and refund_date of every refunded order."""
    refunded = (payments.where(F.col("refunded_at").isNotNull()).groupBy("order_id")
                .agg(F.min("refunded_at").alias("refunded_ts")))
    return (refunded.join(orders.select("order_id", "user_id", F.col("total_amount").alias("amount")), "order_id")
            .withColumn("refund_date", business_date("refunded_ts", zone)))


def customers(sessions: DataFrame, captured: DataFrame) -> DataFrame:
    """gold.customers: every user with a session or a captured order; channel is the
    utm_source of their earliest session (first touch), or 'direct'. Of sessions that start
    at the same instant, one without a utm_source comes first, then the utm_sources in
    alphabetical order: a rule on the values, not on the random session ids, which every night
    would decode for every session to settle ties that hardly ever occur."""
    first = F.min(F.struct("started_ts", F.nullif(F.col("utm_source"), F.lit("")).alias("utm_source")))
    first_touch = (sessions.where(F.col("user_id").isNotNull())
                   .groupBy(F.col("user_id").cast("string").alias("user_id"))
                   .agg(first.alias("first"))
                   .select("user_id", F.col("first.started_ts").alias("first_session_ts"),
                           F.col("first.utm_source").alias("utm_source")))
    first_paid = captured.groupBy("user_id").agg(F.min("paid_ts").alias("first_paid_ts"))
    return (first_touch.join(first_paid, "user_id", "full")
            .select("user_id", "first_session_ts", F.coalesce("utm_source", F.lit(DIRECT)).alias("channel"),
                    "first_paid_ts"))
