"""gold.retention_cohorts: Monday-week signup cohorts and the share active in each later week."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from transformations.gold.common import business_date, ratio


def week_of(column) -> F.Column:
    """The Monday starting the week of a date."""
    return F.to_date(F.date_trunc("week", column))


def retention_cohorts(users: DataFrame, activity: DataFrame, zone: str, first: dt.date, last: dt.date) -> DataFrame:
    """Cohorts of users who signed up between `first` and `last` (business dates); for each
    week since signup up to the week of `last`: cohort size, users active that week, share."""
    signed_up = (users.groupBy(F.col("user_id").cast("string").alias("user_id"))
                 .agg(F.min("created_at").alias("created_at"))
                 .withColumn("signup_date", business_date("created_at", zone))
                 .where(F.col("signup_date").between(F.lit(first), F.lit(last)))
                 .select("user_id", week_of("signup_date").alias("cohort_week")))
    sizes = signed_up.groupBy("cohort_week").agg(F.count(F.lit(1)).alias("cohort_users"))
    weeks = (activity.where(F.col("user_id").isNotNull())
             .select("user_id", week_of("activity_date").alias("active_week")).distinct())
    retained = (signed_up.join(weeks, "user_id").where(F.col("active_week") >= F.col("cohort_week"))
                .groupBy("cohort_week",
                         (F.datediff("active_week", "cohort_week") / 7).cast("int").alias("weeks_since_signup"))
                .agg(F.count(F.lit(1)).alias("retained_users")))
    last_week = week_of(F.lit(last))
    grid = sizes.withColumn("weeks_since_signup", F.explode(F.sequence(
        F.lit(0), (F.datediff(last_week, F.col("cohort_week")) / 7).cast("int"))))
    return (grid.join(retained, ["cohort_week", "weeks_since_signup"], "left")
            .na.fill(0, ["retained_users"])
            .select("cohort_week", "weeks_since_signup", "cohort_users", "retained_users",
                    ratio("retained_users", "cohort_users").alias("retained_share")))
