"""Sessions: 30-minute inactivity windows per device, stitched to the user who logs in."""
from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

SESSION_GAP_SECONDS = 30 * 60
MOBILE_AGENT = r"(?i)iphone|android|mobile"
APP_AGENT = r"(?i)^ShopApp/"


def sessionize(events: DataFrame, business_time_zone: str, gap_seconds: int = SESSION_GAP_SECONDS) -> DataFrame:
    """One row per session from silver.events rows.

    A device (anonymous_id) starts a new session after more than `gap_seconds` without an
    event. The session belongs to the first user id any of its events carries, so the
    anonymous browsing before a login counts for that user (person_id = 'u<user_id>');
    a session nobody logs into belongs to its device (person_id = anonymous_id). Entry
    page, referrer and utm are those of the first event."""
    order = Window.partitionBy("anonymous_id").orderBy("event_ts", "event_id")
    running = order.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    gap = F.col("event_ts").cast("long") - F.lag("event_ts").over(order).cast("long")
    numbered = (events
                .withColumn("_new", F.when(gap.isNull() | (gap > gap_seconds), 1).otherwise(0))
                .withColumn("_seq", F.sum("_new").over(running)))
    first = F.struct("event_ts", "event_id")
    entry = F.min_by(F.struct("page_path", "referrer", "utm_source", "utm_medium", "utm_campaign", "platform",
                              "user_agent"), first)
    sessions = (numbered.groupBy("anonymous_id", "_seq")
                .agg(F.min("event_ts").alias("started_ts"), F.max("event_ts").alias("ended_ts"),
                     F.count(F.lit(1)).alias("event_count"),
                     F.count(F.when(F.col("event_type") == "page_view", 1)).alias("page_count"),
                     F.min_by("user_id", F.when(F.col("user_id").isNotNull(), first)).alias("user_id"),
                     F.max(F.col("event_type") == "purchase").alias("is_converted"),
                     entry.alias("entry")))
    agent = F.col("entry.user_agent")
    return sessions.select(
        F.sha2(F.concat_ws("|", "anonymous_id", F.unix_micros("started_ts").cast("string")), 256)
        .substr(1, 32).alias("session_id"),
        F.to_date(F.from_utc_timestamp("started_ts", business_time_zone)).alias("session_date"),
        "anonymous_id", "user_id",
        F.coalesce(F.concat(F.lit("u"), F.col("user_id").cast("string")), F.col("anonymous_id")).alias("person_id"),
        "started_ts", "ended_ts",
        (F.col("ended_ts").cast("long") - F.col("started_ts").cast("long")).alias("duration_s"),
        "event_count", "page_count",
        F.col("entry.platform").alias("platform"),
        F.when(agent.rlike(APP_AGENT), "app").when(agent.rlike(MOBILE_AGENT), "mobile")
        .when(agent.isNotNull(), "desktop").alias("device"),
        F.col("entry.page_path").alias("entry_page"), F.col("entry.referrer").alias("entry_referrer"),
        F.col("entry.utm_source").alias("utm_source"), F.col("entry.utm_medium").alias("utm_medium"),
        F.col("entry.utm_campaign").alias("utm_campaign"),
        F.col("is_converted"),
    )
