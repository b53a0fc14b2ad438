"""Ingest new ad-spend files from landing/marketing/ into bronze.marketing_raw, exactly once.

Every line of every ad_spend_<date>.csv is kept as received, header included, with
_source_file, _ingested_at and _batch_id; typing and quarantine happen in silver. A world
without a marketing folder (e.g. a source with no ad spend) is not an error: nothing is
ingested and gold reports zero spend.
"""
import logging
from pathlib import Path

from jobs.common.ingest import ingest_lines, landing_dir
from jobs.common.runs import RunStats
from schemas.marketing import MARKETING_RAW

SUMMARY = "landing/marketing/ad_spend_*.csv -> bronze.marketing_raw (new files only, exactly once)"
DATES = None
SOURCE = "marketing"
log = logging.getLogger(__name__)


def run(spark, cfg, args, ctx):
    folder = landing_dir(cfg, SOURCE)
    if "://" not in folder and not Path(folder).is_dir():
        log.info("no %s folder: no ad-spend files to ingest", folder)
        return RunStats()
    return ingest_lines(spark, cfg, MARKETING_RAW, SOURCE, ctx, file_glob="ad_spend_*.csv")
