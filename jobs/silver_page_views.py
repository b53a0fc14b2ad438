"""bronze.access_logs_raw -> silver.page_views, and every rejected line -> ops.quarantine.

Common and Combined Log Format; each line's own UTC offset is honoured, request_date is
the business date in business.time_zone. Every valid request is kept with flags: is_bot
(by user agent), is_static (images, scripts, styles, fonts), is_page_view (a GET of a
page by a person that did not fail). Lines that do not parse go to ops.quarantine with
the reason malformed_line (or empty_line, invalid_timestamp). Hosts (IPs or names) are
replaced by a keyed hash. Every input line ends up in exactly one of the two tables.
"""
from __future__ import annotations

from pyspark.sql import functions as F

from jobs.common.refine import refine_lines
from jobs.common.secrets import require_pseudonym_key
from schemas.bronze import ACCESS_LOGS_RAW
from schemas.web import PAGE_VIEWS
from transformations.access_logs import parse_access_log
from transformations.common import conform
from transformations.events import pseudonymise

SUMMARY = "bronze.access_logs_raw -> silver.page_views (typed requests, bots/static flagged) + ops.quarantine"
DATES = None


def check_inputs(cfg, args) -> None:
    require_pseudonym_key(cfg)


def run(spark, cfg, args, ctx):
    time_zone = cfg.business.time_zone
    return refine_lines(
        spark, cfg, ctx, ACCESS_LOGS_RAW, PAGE_VIEWS, "access_logs",
        parse=lambda lines: parse_access_log(lines, time_zone),
        shape=lambda valid, key: conform(pseudonymise(valid, key, {"host_hash": "host"}), PAGE_VIEWS),
        date_column="request_date", quarantine_key=F.col("record_id"), pseudonymised=True)
