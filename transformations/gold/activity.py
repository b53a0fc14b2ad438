"""Events stitched to their sessions, and one row per business date and person."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def events_in_sessions(events: DataFrame, sessions: DataFrame) -> DataFrame:
    """Each event with its session's id, start date, user and person: the session of the same
    device whose span contains the event."""
    e = events.alias("e")
    s = sessions.select("session_id", "session_date", "anonymous_id", "started_ts", "ended_ts",
                        F.col("user_id").alias("session_user_id"), "person_id").alias("s")
    on = (F.col("e.anonymous_id") == F.col("s.anonymous_id")) & \
        F.col("e.event_ts").between(F.col("s.started_ts"), F.col("s.ended_ts"))
    return e.join(s, on).select("e.*", "s.session_id", "s.session_date", "s.session_user_id", "s.person_id")


def daily_activity(events: DataFrame, sessions: DataFrame) -> DataFrame:
    """gold.user_activity_daily: per event_date and person, the user the person is (if any),
    how many events they sent and whether one was a purchase."""
    return (events_in_sessions(events, sessions)
            .groupBy(F.col("event_date").alias("activity_date"), "person_id")
            .agg(F.max(F.col("session_user_id").cast("string")).alias("user_id"),
                 F.count(F.lit(1)).alias("events"),
                 F.max(F.col("event_type") == "purchase").alias("purchased")))
