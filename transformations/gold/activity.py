"""One row per business date and person with an event, from the sessions' days."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def daily_activity(sessions: DataFrame) -> DataFrame:
    """gold.user_activity_daily: per business date and person, the user the person is (if
    any), how many events they sent and whether one was a purchase. Each session's `days`
    (silver.sessions) hold its events per date, so a session that runs past midnight counts
    on both dates, for its own person."""
    days = sessions.select("person_id", "user_id", F.explode("days").alias("day"))
    return (days.groupBy(F.col("day.event_date").alias("activity_date"), "person_id")
            .agg(F.max(F.col("user_id").cast("string")).alias("user_id"),
                 F.sum("day.events").alias("events"),
                 F.max("day.purchased").alias("purchased")))
