"""gold.funnel_daily: sessions by start date, and how far each got through the funnel."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from schemas.gold import FUNNEL_STEPS
from transformations.gold.common import ratio

PRODUCT_PAGE = "/products/"


def step_code() -> F.Column:
    """1..4 for an event that is the view, add_to_cart, checkout or purchase step; else 0."""
    view = (F.col("event_type") == "page_view") & F.col("page_path").startswith(PRODUCT_PAGE)
    code = F.when(view, 1)
    for number, step in enumerate(FUNNEL_STEPS[1:], start=2):
        code = code.when(F.col("event_type") == step, number)
    return F.coalesce(code.otherwise(0), F.lit(0))


def session_steps(stitched: DataFrame) -> DataFrame:
    """session_id, session_date and the number of funnel steps the session reached in order:
    walking its events by time, a step counts once the step before it was reached. Only the
    step events are collected (collect_list skips the nulls of the others), so a session
    without one still counts, with 0 steps, and the sort and walk are a third shorter."""
    code = step_code()
    ordered = F.array_sort(F.collect_list(F.when(code > 0, F.struct("event_ts", "event_id", code.alias("code")))))
    reached = F.aggregate(F.transform(ordered, lambda e: e["code"]), F.lit(0),
                          lambda acc, code: F.when(code == acc + 1, acc + 1).otherwise(acc))
    return stitched.groupBy("session_id", "session_date").agg(reached.alias("steps"))


def funnel_daily(dates: DataFrame, steps: DataFrame) -> DataFrame:
    counts = steps.groupBy(F.col("session_date").alias("business_date")).agg(
        F.count(F.lit(1)).alias("sessions"),
        *[F.count(F.when(F.col("steps") >= n, 1)).alias(f"{step}_sessions")
          for n, step in enumerate(FUNNEL_STEPS, start=1)])
    rows = dates.join(counts, "business_date", "left").na.fill(0)
    columns, previous = ["business_date", "sessions"], "sessions"
    for step in FUNNEL_STEPS:
        columns += [f"{step}_sessions", ratio(f"{step}_sessions", previous).alias(f"{step}_rate")]
        previous = f"{step}_sessions"
    return rows.select(*columns)
