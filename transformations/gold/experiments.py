"""gold.experiment_results: cumulative conversion per experiment and variant, with lift, a
pooled two-proportion z-test and a sample-ratio-mismatch check.

Spark reduces the events to counts per (experiment, variant, date); the statistics are
computed on the driver from those few rows (no UDF, no per-event Python)."""
from __future__ import annotations

import datetime as dt
import math

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from transformations.gold.common import business_date

SRM_ALPHA = 0.001


def first_exposures(events: DataFrame, zone: str) -> DataFrame:
    """Per experiment and user: the variant of their first exposure, its date, and the date of
    their first purchase at or after it (null if none). Exposures at the same instant in
    different variants (none in the generated worlds) are taken in variant order, not by
    event id: the ids are random, and decoding them for every event of every date cost a fifth
    of the job. `events` needs event_type, event_ts, user_id, experiment_id and variant."""
    users = events.where(F.col("user_id").isNotNull())
    exposures = (users.where(F.col("event_type") == "experiment_exposure")
                 .groupBy("experiment_id", "user_id")
                 .agg(F.min(F.struct("event_ts", "variant")).alias("first")))
    purchases = users.where(F.col("event_type") == "purchase").select("user_id", F.col("event_ts").alias("bought_ts"))
    converted = (exposures.join(purchases, "user_id", "left")
                 .groupBy("experiment_id", "user_id", "first")
                 .agg(F.min(F.when(F.col("bought_ts") >= F.col("first.event_ts"), F.col("bought_ts")))
                      .alias("converted_ts")))
    return converted.select("experiment_id", "user_id", F.col("first.variant").alias("variant"),
                            business_date("first.event_ts", zone).alias("exposure_date"),
                            business_date("converted_ts", zone).alias("conversion_date"))


def daily_counts(exposures: DataFrame) -> list:
    """(experiment_id, variant, date, new exposed users, new converted users) rows."""
    exposed = exposures.groupBy("experiment_id", "variant", F.col("exposure_date").alias("date")) \
        .agg(F.count(F.lit(1)).alias("exposed"))
    converted = (exposures.where(F.col("conversion_date").isNotNull())
                 .groupBy("experiment_id", "variant", F.col("conversion_date").alias("date"))
                 .agg(F.count(F.lit(1)).alias("converted")))
    return (exposed.join(converted, ["experiment_id", "variant", "date"], "full").na.fill(0)
            .orderBy("experiment_id", "variant", "date").collect())


def cumulative_results(counts: list, splits: dict[str, tuple[tuple[str, float], ...]],
                       dates: list[dt.date]) -> list[tuple]:
    """experiment_results rows for each date, experiment and configured variant."""
    rows = []
    for day in dates:
        for experiment, variants in splits.items():
            stats = {variant: [0, 0] for variant, _ in variants}
            for row in counts:
                if row["experiment_id"] == experiment and row["date"] <= day and row["variant"] in stats:
                    stats[row["variant"]][0] += row["exposed"]
                    stats[row["variant"]][1] += row["converted"]
            rows.extend(_rows(day, experiment, variants, stats))
    return rows


def _rows(day, experiment, variants, stats) -> list[tuple]:
    total = sum(n for n, _ in stats.values())
    srm = srm_p_value([stats[v][0] for v, _ in variants], [share for _, share in variants]) if total else None
    control, (control_n, control_x) = variants[0][0], stats[variants[0][0]]
    control_rate = control_x / control_n if control_n else None
    rows = []
    for variant, _ in variants:
        n, x = stats[variant]
        rate = x / n if n else None
        lift = p_value = None
        if variant != control and rate is not None and control_rate is not None:
            lift = (rate - control_rate) / control_rate if control_rate else None
            p_value = two_proportion_p_value(x, n, control_x, control_n)
        rows.append((day, experiment, variant, n, x, rate, lift, p_value, srm,
                     srm is not None and srm < SRM_ALPHA))
    return rows


def two_proportion_p_value(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test; None if the variance is zero."""
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return math.erfc(abs(x1 / n1 - x2 / n2) / se / math.sqrt(2)) if se else None


def srm_p_value(observed: list[int], shares: list[float]) -> float:
    """p-value of Pearson's chi-square test of observed counts against intended shares."""
    total = sum(observed)
    chi2 = sum((o - total * s) ** 2 / (total * s) for o, s in zip(observed, shares))
    return chi2_survival(chi2, len(observed) - 1)


def chi2_survival(x: float, df: int) -> float:
    """P(X >= x) for a chi-square variable with `df` (a positive integer) degrees of freedom,
    by the closed forms for integer df."""
    if df % 2 == 0:
        term = total = math.exp(-x / 2)
        for k in range(1, df // 2):
            term *= (x / 2) / k
            total += term
        return total
    total = math.erfc(math.sqrt(x / 2))
    term = math.sqrt(x / 2) * math.exp(-x / 2) * 2 / math.sqrt(math.pi) if x > 0 else 0.0
    for k in range(1, (df + 1) // 2):
        total += term
        term *= x / (2 * k + 1)
    return total
