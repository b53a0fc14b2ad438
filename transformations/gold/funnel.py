"""gold.funnel_daily: sessions by start date, and how far each got through the funnel."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from schemas.gold import FUNNEL_STEPS
from transformations.gold.common import ratio


def funnel_daily(dates: DataFrame, sessions: DataFrame) -> DataFrame:
    """One row per date of `dates`: the sessions that started on it, how many reached each
    step (silver.sessions.funnel_steps, walked when the session was built) and each step's
    rate against the step before it."""
    counts = sessions.groupBy(F.col("session_date").alias("business_date")).agg(
        F.count(F.lit(1)).alias("sessions"),
        *[F.count(F.when(F.col("funnel_steps") >= n, 1)).alias(f"{step}_sessions")
          for n, step in enumerate(FUNNEL_STEPS, start=1)])
    rows = dates.join(counts, "business_date", "left").na.fill(0)
    columns, previous = ["business_date", "sessions"], "sessions"
    for step in FUNNEL_STEPS:
        columns += [f"{step}_sessions", ratio(f"{step}_sessions", previous).alias(f"{step}_rate")]
        previous = f"{step}_sessions"
    return rows.select(*columns)
