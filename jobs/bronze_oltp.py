"""Nightly OLTP dumps -> bronze.oltp_snapshots, one (table, snapshot date) at a time.

Reads landing/oltp/<source table>/<YYYY-MM-DD>/*.csv (RFC 4180: quoted fields with commas,
doubled quotes and newlines) or *.parquet, for every table declared in oltp.sources, and
keeps every row as text in a map, with the snapshot date and ingestion columns. Without
dates it takes the snapshots not yet in bronze; with --date/--start/--end it (re)takes
those dates. Each snapshot replaces its own partition, so a rerun or a re-delivered dump
gives the same table.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from pyspark.sql import functions as F

from jobs.common.ingest import landing_dir, require_directory
from jobs.common.io import partitions, replace_where, table_exists
from jobs.common.runs import RunStats
from jobs.common.sources import load_sources
from schemas.oltp import OLTP_SNAPSHOTS

SUMMARY = "landing/oltp/<table>/<date>/ dumps -> bronze.oltp_snapshots (new snapshot dates, or --date/--start/--end)"
DATES = "optional"
SOURCE = "oltp"
log = logging.getLogger(__name__)


def check_inputs(cfg, args) -> None:
    require_directory(landing_dir(cfg, SOURCE), SOURCE)
    load_sources(cfg)


def snapshot_dates(folder: Path) -> list[dt.date]:
    dates = []
    for child in sorted(folder.iterdir()) if folder.is_dir() else []:
        try:
            dates.append(dt.date.fromisoformat(child.name))
        except ValueError:
            continue
    return dates


def ingested_snapshots(spark, cfg) -> set[tuple[str, dt.date]]:
    """(table, snapshot date) pairs already in bronze, from the Delta log's file list (the
    partition folders), without reading any data file."""
    if not table_exists(spark, cfg, OLTP_SNAPSHOTS):
        return set()
    return {(table, dt.date.fromisoformat(day)) for table, day in partitions(spark, cfg, OLTP_SNAPSHOTS)}


def run(spark, cfg, args, ctx):
    stats = RunStats()
    fmt = cfg.oltp.dump_format
    done = ingested_snapshots(spark, cfg)
    for table, source in load_sources(cfg).items():
        folder = Path(landing_dir(cfg, SOURCE)) / source.source
        days = [day for day in snapshot_dates(folder)
                if ((args.start <= day <= args.end) if args.start else (table, day) not in done)]
        files = [str(p) for day in days for p in sorted((folder / day.isoformat()).glob(f"*.{fmt}"))]
        if not files:
            continue
        commit = stats.add(replace_where(read_dumps(spark, files, fmt, table, ctx), cfg, OLTP_SNAPSHOTS,
                                         f"source_table = '{table}' AND snapshot_date IN "
                                         f"({', '.join(repr(d.isoformat()) for d in days)})"))
        stats.input_files.extend(files)
        stats.rows_read[table] = commit.rows
        log.info("bronze.oltp_snapshots: %s, %d snapshots (%s..%s), %d rows -> version %d", table, len(days),
                 days[0], days[-1], commit.rows, commit.version)
    return stats


def read_dumps(spark, files: list[str], fmt: str, table: str, ctx):
    """Every row of the given dump files as a text map, dated by its folder."""
    reader = spark.read
    if fmt == "csv":
        reader = (reader.option("header", True).option("multiLine", True).option("escape", '"')
                  .option("mode", "PERMISSIVE").option("encoding", "UTF-8"))
    raw = reader.format(fmt).load(files)
    columns = [F.lit(c) for c in raw.columns]
    values = [F.col(f"`{c}`").cast("string") for c in raw.columns]
    path = F.col("_metadata.file_path")
    return raw.select(
        F.lit(table).alias("source_table"),
        F.to_date(F.regexp_extract(path, r"/(\d{4}-\d{2}-\d{2})/[^/]+$", 1)).alias("snapshot_date"),
        F.map_from_arrays(F.array(*columns), F.array(*values)).alias("record"),
        path.alias("_source_file"),
        F.lit(ctx.started_ts).cast("timestamp").alias("_ingested_at"),
        F.lit(ctx.run_id).alias("_batch_id"), F.lit(ctx.started_ts.date()).alias("_ingest_date"))
