"""Two warehouses built from the same world by different runs hold the same tables, once
what legitimately differs between runs is taken out."""
from __future__ import annotations

from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs.common.io import read_table
from schemas.bronze import ACCESS_LOGS_RAW, EVENTS_RAW
from schemas.events import EVENTS, SESSIONS
from schemas.gold import HELPERS, KPI_TABLES
from schemas.marketing import AD_SPEND
from schemas.oltp import DIM_PRODUCTS, DIM_USERS, FACT_ORDER_ITEMS, FACT_ORDERS, FACT_PAYMENTS, OLTP_SNAPSHOTS
from schemas.ops import QUARANTINE
from schemas.web import PAGE_VIEWS

# every table a pipeline run builds from landing files, bronze to gold
BUILT_TABLES = (EVENTS_RAW, ACCESS_LOGS_RAW, EVENTS, SESSIONS, PAGE_VIEWS, QUARANTINE, OLTP_SNAPSHOTS, DIM_USERS,
                DIM_PRODUCTS, FACT_ORDERS, FACT_ORDER_ITEMS, FACT_PAYMENTS, AD_SPEND, *HELPERS, *KPI_TABLES)
# what a run stamps on rows (its own id and clock, and which copy of a duplicate it saw first)
RUN_COLUMNS = {"_ingested_at", "_batch_id", "_ingest_date", "run_id", "quarantined_ts", "quarantine_date"}
# hashes over the absolute file path, which differs between two landing directories
PATH_KEYS = {"record_key", "record_id"}
FILE_COLUMNS = ("_source_file", "source_file")


def comparable(spark, cfg, spec, without_hashes: bool = False):
    """The table without what legitimately differs between two runs: run stamps, and in
    silver.events which copy of a duplicated event was seen first; `without_hashes`: nor the
    columns of keyed hashes (`*_hash`), for runs under different pseudonym keys."""
    drop = RUN_COLUMNS | PATH_KEYS | ({"_source_file"} if spec == EVENTS else set())
    df = read_table(spark, cfg, spec)
    if without_hashes:
        drop |= {column for column in df.columns if column.endswith("_hash")}
    for column in FILE_COLUMNS:
        if column in df.columns:
            df = df.withColumn(column, F.regexp_extract(column, r"/landing/(.*)$", 1))
    for column in ("_rescued", "record"):  # maps cannot be sorted on; their sorted entries can
        if column in df.columns:
            df = df.withColumn(column, F.to_json(F.array_sort(F.map_entries(column))))
    return df.select(*sorted(c for c in df.columns if c not in drop))


def assert_same_tables(spark, cfg, reference_cfg, without_hashes: bool = False) -> None:
    for spec in BUILT_TABLES:
        assert_df_equality(comparable(spark, cfg, spec, without_hashes),
                           comparable(spark, reference_cfg, spec, without_hashes),
                           ignore_row_order=True, ignore_nullable=True)
