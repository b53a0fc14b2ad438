"""A pipeline killed with SIGKILL at random points and rerun until it completes leaves
the same bronze, silver and gold tables as one clean run; the clean run's gold equals the
truth in UTC."""
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs.common.config import PROJECT_ROOT
from jobs.common.io import read_table
from schemas.bronze import ACCESS_LOGS_RAW, EVENTS_RAW
from schemas.events import EVENTS, SESSIONS
from schemas.ops import QUARANTINE
from schemas.oltp import DIM_PRODUCTS, DIM_USERS, FACT_ORDER_ITEMS, FACT_ORDERS, FACT_PAYMENTS, OLTP_SNAPSHOTS
from schemas.gold import HELPERS, KPI_TABLES
from schemas.marketing import AD_SPEND
from schemas.web import PAGE_VIEWS
from jobs.pipeline import STEPS
from tests.conftest import test_config
from tests.integration.gold_truth import TRUTH_FILES, mismatches
from tests.integration.world_helpers import generate_world, run_jobs

pytestmark = pytest.mark.slow
# what a run stamps on rows (its own id and clock, and which copy of a duplicate it saw first)
RUN_COLUMNS = {"_ingested_at", "_batch_id", "_ingest_date", "run_id", "quarantined_ts", "quarantine_date"}
# hashes over the absolute file path, which differs between the two landing directories
PATH_KEYS = {"record_key", "record_id"}
FILE_COLUMNS = ("_source_file", "source_file")


def pipeline_process(root):
    paths = [f"paths.{p}={root / p}" for p in ("landing", "warehouse", "checkpoints", "event_log", "truth")]
    args = [sys.executable, "-m", "jobs", "--env", "test"]
    for item in paths:
        args += ["--conf", item]
    return subprocess.Popen([*args, "pipeline"], cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def comparable(spark, cfg, spec):
    """The table without what legitimately differs between two runs: run stamps, and in
    silver.events which copy of a duplicated event was seen first."""
    drop = RUN_COLUMNS | PATH_KEYS | ({"_source_file"} if spec == EVENTS else set())
    df = read_table(spark, cfg, spec)
    for column in FILE_COLUMNS:
        if column in df.columns:
            df = df.withColumn(column, F.regexp_extract(column, r"/landing/(.*)$", 1))
    for column in ("_rescued", "record"):  # maps cannot be sorted on; their sorted entries can
        if column in df.columns:
            df = df.withColumn(column, F.to_json(F.array_sort(F.map_entries(column))))
    return df.select(*sorted(c for c in df.columns if c not in drop))


def test_pipeline_killed_at_random_points_then_rerun_equals_one_clean_run(spark, tmp_path):
    clean = test_config(tmp_path / "clean")
    generate_world(clean)
    run_jobs(spark, clean, *STEPS)  # the steps the killed `pipeline` runs
    for spec in TRUTH_FILES:
        assert mismatches(spark, clean, spec, "UTC") == []

    killed = test_config(tmp_path / "killed")
    generate_world(killed)
    rng = random.Random(20241124)
    kills = 0
    for _ in range(3):
        process = pipeline_process(tmp_path / "killed")
        time.sleep(rng.uniform(8, 60))  # from ingestion to the gold steps
        if process.poll() is not None:
            break
        os.killpg(process.pid, signal.SIGKILL)  # the driver and its JVM, as a machine crash would
        process.wait()
        kills += 1
    final = pipeline_process(tmp_path / "killed")
    assert final.wait(timeout=600) == 0
    assert kills >= 1

    for spec in (EVENTS_RAW, ACCESS_LOGS_RAW, EVENTS, SESSIONS, PAGE_VIEWS, QUARANTINE, OLTP_SNAPSHOTS, DIM_USERS,
                 DIM_PRODUCTS, FACT_ORDERS, FACT_ORDER_ITEMS, FACT_PAYMENTS, AD_SPEND, *HELPERS, *KPI_TABLES):
        assert_df_equality(comparable(spark, killed, spec), comparable(spark, clean, spec),
                           ignore_row_order=True, ignore_nullable=True)
