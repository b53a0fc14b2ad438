"""silver.events -> gold.experiment_results: cumulative A/B results per date.

Experiments, their variants and intended split come from `experiments` in conf/. Results
are cumulative, so a change on date d touches every date from d on.
"""
from __future__ import annotations

from pyspark.sql import functions as F

from jobs.common.config import experiment_splits
from jobs.common.gold import GoldBuild, add_rebuild_option, date_range, run_build
from schemas.events import EVENTS
from schemas.gold import EXPERIMENT_RESULTS
from transformations.gold.experiments import cumulative_results, daily_counts, first_exposures

SUMMARY = "silver.events -> gold.experiment_results (conversion, lift, p-value, SRM; cumulative per date)"
DATES = "optional"


def touched(ctx, changed):
    events = ctx.dates(ctx.changes(EVENTS, changed), "event_date")
    if not events:
        return set()
    return set(date_range(min(events), ctx.calendar[1]))


def compute(ctx, dates):
    splits = experiment_splits(ctx.cfg)
    events = (ctx.read(EVENTS).where(F.col("event_type").isin("experiment_exposure", "purchase"))
              .where(F.col("event_date") <= max(dates))
              .select("event_type", "event_ts", "user_id", "experiment_id", "variant"))
    counts = daily_counts(first_exposures(events, ctx.zone))
    return ctx.spark.createDataFrame(cumulative_results(counts, splits, dates), EXPERIMENT_RESULTS.schema)


BUILD = GoldBuild(EXPERIMENT_RESULTS, (EVENTS,), touched, compute)


def add_arguments(parser):
    add_rebuild_option(parser)


def run(spark, cfg, args, ctx):
    return run_build(spark, cfg, args, ctx, BUILD)
