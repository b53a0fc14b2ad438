"""bronze.marketing_raw -> silver.ad_spend, and every rejected line -> ops.quarantine.

One row per date, channel and campaign: spend as decimal, impressions and clicks as
integers. Lines that are empty, have the wrong number of fields, an invalid date, no
channel or a non-numeric or negative amount go to ops.quarantine with that reason. Header
lines are skipped. A line seen again (a re-delivered file) changes nothing.
"""
from __future__ import annotations

from jobs.common.io import table_exists
from jobs.common.refine import refine_lines
from jobs.common.runs import RunStats
from schemas.marketing import AD_SPEND, MARKETING_RAW
from transformations.common import conform
from transformations.marketing import parse_ad_spend

SUMMARY = "bronze.marketing_raw -> silver.ad_spend (typed spend per date/channel/campaign) + ops.quarantine"
DATES = None


def run(spark, cfg, args, ctx):
    if not table_exists(spark, cfg, MARKETING_RAW):
        return RunStats()  # no ad-spend files were ever delivered
    return refine_lines(spark, cfg, ctx, MARKETING_RAW, AD_SPEND, "marketing",
                        parse=parse_ad_spend, shape=lambda valid: conform(valid, AD_SPEND),
                        date_column="spend_date")
