"""Ingest new web-server access-log files from landing/access_logs/ into bronze.access_logs_raw.

Common or Combined Log Format, any file name; every line is kept as received with
_source_file, _ingested_at and _batch_id. Exactly once per file, like bronze_events.
"""
from jobs.common.ingest import ingest_lines, landing_dir, require_directory
from schemas.bronze import ACCESS_LOGS_RAW

SUMMARY = "landing/access_logs/* -> bronze.access_logs_raw (new files only, exactly once)"
DATES = None
SOURCE = "access_logs"


def check_inputs(cfg, args) -> None:
    require_directory(landing_dir(cfg, SOURCE), SOURCE)


def run(spark, cfg, args, ctx):
    return ingest_lines(spark, cfg, ACCESS_LOGS_RAW, SOURCE, ctx)
