"""Sessions: 30-minute inactivity windows per device, stitched to the user who logs in."""
from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from schemas.gold import FUNNEL_STEPS

SESSION_GAP_SECONDS = 30 * 60
MOBILE_AGENT = r"(?i)iphone|android|mobile"
APP_AGENT = r"(?i)^ShopApp/"
PRODUCT_PAGE = "/products/"
# what a session takes from its first event
ENTRY = ("page_path", "referrer", "utm_source", "utm_medium", "utm_campaign", "platform", "user_agent")


def step_code() -> Column:
    """1..4 for an event that is the funnel's view, add_to_cart, checkout or purchase step; else 0."""
    view = (F.col("event_type") == "page_view") & F.col("page_path").startswith(PRODUCT_PAGE)
    code = F.when(view, 1)
    for number, step in enumerate(FUNNEL_STEPS[1:], start=2):
        code = code.when(F.col("event_type") == step, number)
    return F.coalesce(code.otherwise(0), F.lit(0))


def walk_funnel(steps: Column) -> Column:
    """How many funnel steps a session reached in order, from its step events, each given as
    its number in its device's order times 8 plus its step_code (in any order): walking them
    by that number, a step counts once the step before it was reached. (One long per event
    sorts and walks faster than a struct of its time and id.)"""
    return F.aggregate(F.array_sort(steps), F.lit(0),
                       lambda reached, step: F.when(step % 8 == reached + 1, reached + 1).otherwise(reached))


def sessionize(events: DataFrame, business_time_zone: str, gap_seconds: int = SESSION_GAP_SECONDS) -> DataFrame:
    """One row per session from silver.events rows.

    A device (anonymous_id) starts a new session after more than `gap_seconds` without an
    event. The session belongs to the first user id any of its events carries, so the
    anonymous browsing before a login counts for that user (person_id = 'u<user_id>');
    a session nobody logs into belongs to its device (person_id = anonymous_id). Entry
    page, referrer and utm are those of the first event; funnel_steps is how far the session
    got through the funnel, and `days` its events per business date (one date, or more for a
    session that runs past midnight): gold.funnel_daily and gold.user_activity_daily read
    these, not the events.

    One sort of each device's events by time, then id, numbers them (`_n`) and marks where
    each session and each of its dates begins; a session's dates are consecutive runs of its
    events, so the events of each come from where the next begins (`_days` below)."""
    order = Window.partitionBy("anonymous_id").orderBy("event_ts", "event_id")
    running = order.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    gap = F.col("event_ts").cast("long") - F.lag("event_ts").over(order).cast("long")
    numbered = (events
                .withColumn("_new", F.when(gap.isNull() | (gap > gap_seconds), 1).otherwise(0))
                .withColumn("_seq", F.sum("_new").over(running))
                .withColumn("_n", F.row_number().over(order))
                .withColumn("_day_from", F.when((F.col("_new") == 1) |
                                                (F.lag("event_date").over(order) != F.col("event_date")), F.col("_n"))))
    first = F.struct("event_ts", "event_id")
    entry = F.min_by(F.struct(*ENTRY), first)
    code = step_code()
    sessions = (numbered.groupBy("anonymous_id", "_seq")
                .agg(F.min("event_ts").alias("started_ts"), F.max("event_ts").alias("ended_ts"),
                     F.count(F.lit(1)).alias("event_count"),
                     F.count(F.when(F.col("event_type") == "page_view", 1)).alias("page_count"),
                     F.min_by("user_id", F.when(F.col("user_id").isNotNull(), first)).alias("user_id"),
                     F.max(F.col("event_type") == "purchase").alias("is_converted"),
                     F.collect_list(F.when(code > 0, F.col("_n") * 8 + code)).alias("steps"),
                     F.collect_list(F.when(F.col("_day_from").isNotNull(), F.struct("_day_from", "event_date")))
                     .alias("_day_starts"),
                     F.max("_n").alias("_last"),
                     F.collect_set(F.when(F.col("event_type") == "purchase", F.col("event_date"))).alias("_bought_on"),
                     entry.alias("entry"))
                .withColumn("days", _days(F.array_sort("_day_starts"), F.col("_last"), F.col("_bought_on"))))
    return _session_rows(sessions, business_time_zone)


def resessionize(events: DataFrame, sessions: DataFrame, changed: DataFrame, business_time_zone: str,
                 gap_seconds: int = SESSION_GAP_SECONDS) -> DataFrame:
    """`sessions` (rows of silver.sessions over some dates) after events of some devices were
    added or removed (`changed`: their anonymous_id and event_date). A device's sessions from
    the day before the first date it has a changed event on to the day after the last are
    built again from its events (`events` must hold each such device's events from one more
    day on each side, so a session that crosses midnight is seen whole); every other session
    is kept as it is, since a session depends only on its own device's events. A night's late
    events touch a few devices on the dates before it, so their sessions are rebuilt, not all
    of those dates' sessions. Columns and types: those of `sessions`."""
    spans = (changed.groupBy("anonymous_id")
             .agg(F.date_sub(F.min("event_date"), 1).alias("_from"), F.date_add(F.max("event_date"), 1).alias("_to")))

    def within(column: str, margin: int) -> Column:
        return F.col(column).between(F.date_sub("_from", margin), F.date_add("_to", margin))

    touched = events.join(spans, "anonymous_id").where(within("event_date", 1)).drop("_from", "_to")
    fresh = (sessionize(touched, business_time_zone, gap_seconds)
             .join(spans, "anonymous_id").where(within("session_date", 0)))
    kept = (sessions.join(spans, "anonymous_id", "left")
            .where(F.col("_from").isNull() | ~within("session_date", 0)))
    as_sessions = [F.col(field.name).cast(field.dataType).alias(field.name) for field in sessions.schema.fields]
    return kept.select(*sessions.columns).unionByName(fresh.select(*as_sessions))


def _days(starts: Column, last: Column, bought_on: Column) -> Column:
    """(event_date, events, purchased) per date of a session, from where each date's run of
    events begins (`starts`: (_day_from, event_date) by _day_from), the number of its last
    event and the dates it has a purchase on."""
    def day(start: Column, i: Column) -> Column:
        until = F.coalesce(F.try_element_at(starts, i + 2)["_day_from"], last + 1)
        return F.struct(start["event_date"].alias("event_date"), (until - start["_day_from"]).alias("events"),
                        F.array_contains(bought_on, start["event_date"]).alias("purchased"))
    return F.transform(starts, day)


def _session_rows(sessions: DataFrame, business_time_zone: str) -> DataFrame:
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
        F.col("is_converted"), walk_funnel(F.col("steps")).alias("funnel_steps"), F.col("days"),
    )
