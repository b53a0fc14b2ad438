"""silver.page_views -> gold.web_traffic_daily, for the request dates that changed."""
from __future__ import annotations

from pyspark.sql import functions as F

from jobs.common.gold import GoldBuild, add_rebuild_option, dates_frame, run_build
from schemas.gold import WEB_TRAFFIC_DAILY
from schemas.web import PAGE_VIEWS
from transformations.common import conform
from transformations.gold.web import web_traffic_daily

SUMMARY = "silver.page_views -> gold.web_traffic_daily (requests, status mix, bots, top pages; changed dates)"
DATES = "optional"


def touched(ctx, changed):
    return ctx.dates(ctx.changes(PAGE_VIEWS, changed), "request_date")


def compute(ctx, dates):
    requests = ctx.read(PAGE_VIEWS).where(F.col("request_date").isin(dates))
    return conform(web_traffic_daily(dates_frame(ctx.spark, dates), requests), WEB_TRAFFIC_DAILY)


BUILD = GoldBuild(WEB_TRAFFIC_DAILY, (PAGE_VIEWS,), touched, compute)


def add_arguments(parser):
    add_rebuild_option(parser)


def run(spark, cfg, args, ctx):
    return run_build(spark, cfg, args, ctx, BUILD)
