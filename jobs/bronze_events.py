"""Ingest new event JSON-lines files from landing/events/ into bronze.events_raw, exactly once.

Every line is kept as received (malformed ones included) with _source_file, _ingested_at
and _batch_id; parsing and quarantine happen in silver. Files already ingested are never
read again; the streaming checkpoint under paths.checkpoints is the ledger.
"""
from jobs.common.ingest import ingest_lines, landing_dir, require_directory
from schemas.bronze import EVENTS_RAW

SUMMARY = "landing/events/*.jsonl -> bronze.events_raw (new files only, exactly once)"
DATES = None
SOURCE = "events"


def check_inputs(cfg, args) -> None:
    require_directory(landing_dir(cfg, SOURCE), SOURCE)


def run(spark, cfg, args, ctx):
    return ingest_lines(spark, cfg, EVENTS_RAW, SOURCE, ctx)
