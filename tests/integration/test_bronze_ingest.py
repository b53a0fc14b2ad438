"""Exactly-once file ingestion into bronze, and what a run records in ops.job_runs."""
import argparse
import pathlib
import shutil

import pytest
from deltalake import DeltaTable as RustDeltaTable

from jobs import bronze_access_logs, bronze_events
from jobs.common.cli import execute
from jobs.common.io import read_table, table_path
from jobs.common.session import QUIETED_LOGGERS
from jobs.common.streams import process_available
from schemas.bronze import ACCESS_LOGS_RAW, EVENTS_RAW
from schemas.ops import JOB_RUNS
from tests.conftest import test_config

NO_DATES = argparse.Namespace(start=None, end=None)


def write_lines(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))


def ingest_events(spark, cfg):
    outcome = execute(spark, "bronze_events", bronze_events, cfg, NO_DATES, "")
    assert outcome.error is None
    return outcome


def test_ingest_lines_takes_each_file_once_and_new_files_next_run(spark, cfg):
    landing = cfg.paths.landing
    write_lines(pathlib.Path(landing) / "events/2024-03-01/h00.jsonl", ['{"a":1}', "not json", ""])
    first = ingest_events(spark, cfg)
    again = ingest_events(spark, cfg)
    write_lines(pathlib.Path(landing) / "events/2024-03-01/h01.jsonl", ['{"b":2}'])
    third = ingest_events(spark, cfg)

    assert sum(first.stats.rows_read.values()) == 3 and len(first.stats.input_files) == 1
    assert again.stats.input_files == [] and again.stats.commits == []
    assert [f.rsplit("/", 1)[-1] for f in third.stats.input_files] == ["h01.jsonl"]
    rows = read_table(spark, cfg, EVENTS_RAW).select("value", "_source_file").collect()
    assert sorted((r["value"], r["_source_file"].rsplit("/", 1)[-1]) for r in rows) == [
        ("", "h00.jsonl"), ("not json", "h00.jsonl"), ('{"a":1}', "h00.jsonl"), ('{"b":2}', "h01.jsonl")]


def test_ingest_splits_many_files_into_batches_of_the_configured_size(spark, tmp_path):
    cfg = test_config(tmp_path, "ingest.max_files_per_batch=2")
    for hour in range(5):
        write_lines(pathlib.Path(cfg.paths.landing) / f"events/2024-03-01/h{hour:02d}.jsonl", [f'{{"h":{hour}}}'])
    outcome = ingest_events(spark, cfg)
    assert len(outcome.stats.commits) == 3  # 2 + 2 + 1 files
    assert len(outcome.stats.input_files) == 5
    assert read_table(spark, cfg, EVENTS_RAW).count() == 5


def test_ingest_lines_records_each_run_in_job_runs(spark, cfg):
    write_lines(pathlib.Path(cfg.paths.landing) / "events/d/h.jsonl", ['{"a":1}', '{"a":2}'])
    outcome = ingest_events(spark, cfg)
    runs = read_table(spark, cfg, JOB_RUNS).collect()
    assert len(runs) == 1
    run = runs[0]
    assert (run["job"], run["status"], run["env"]) == ("bronze_events", "succeeded", "test")
    assert run["rows_written"] == {"bronze.events_raw": 2}
    assert run["table_versions"] == {"bronze.events_raw": outcome.stats.commits[-1].version}
    assert [f.rsplit("/", 1)[-1] for f in run["input_files"]] == ["h.jsonl"]


def test_ingest_replayed_batch_is_not_written_twice(spark, cfg):
    """A crash after the Delta commit but before the checkpoint commit replays the batch;
    Delta's txnAppId/txnVersion make the replay a no-op."""
    write_lines(pathlib.Path(cfg.paths.landing) / "events/d/h.jsonl", ['{"a":1}'])
    ingest_events(spark, cfg)
    commits = pathlib.Path(cfg.paths.checkpoints) / "bronze/events_raw/commits"
    for marker in commits.iterdir():  # forget that batch 0 finished, as a SIGKILL would
        marker.unlink()
    ingest_events(spark, cfg)
    assert read_table(spark, cfg, EVENTS_RAW).count() == 1


def test_bronze_tables_read_the_same_with_a_reader_that_is_not_spark(spark, cfg):
    write_lines(pathlib.Path(cfg.paths.landing) / "access_logs/a.log", ["line one", "line two", "line three"])
    outcome = execute(spark, "bronze_access_logs", bronze_access_logs, cfg, NO_DATES, "")
    assert outcome.error is None
    rust = RustDeltaTable(table_path(cfg, ACCESS_LOGS_RAW)).to_pyarrow_table()
    assert rust.num_rows == read_table(spark, cfg, ACCESS_LOGS_RAW).count() == 3
    assert sorted(rust.column("value").to_pylist()) == ["line one", "line three", "line two"]


@pytest.mark.realdata
def test_nasa_head_log_every_physical_line_lands_in_bronze(spark, cfg, shared_datasets):
    source = shared_datasets / "nasa_http_1995" / "NASA_access_log_Aug95_head.log"
    target = pathlib.Path(cfg.paths.landing) / "access_logs" / source.name
    target.parent.mkdir(parents=True)
    shutil.copyfile(source, target)
    outcome = execute(spark, "bronze_access_logs", bronze_access_logs, cfg, NO_DATES, "")
    assert outcome.error is None
    assert read_table(spark, cfg, ACCESS_LOGS_RAW).count() == 1930  # SOURCE.md: 1,930 physical lines


def test_micro_batches_keep_adaptive_execution_so_sparks_warning_that_it_is_off_is_quieted(spark, tmp_path):
    """At each stream's start Spark warns that adaptive execution will be disabled; the batches
    foreachBatch hands over keep it, so jobs.common.session quiets that logger; every logger it
    quiets must exist and be at ERROR."""
    source = str(tmp_path / "source")
    spark.range(3).write.format("delta").save(source)
    seen = []
    process_available(spark.readStream.format("delta").load(source), str(tmp_path / "checkpoint"), "adaptive_check",
                      lambda batch, _: seen.append(batch.sparkSession.conf.get("spark.sql.adaptive.enabled")))
    assert spark.conf.get("spark.sql.adaptive.enabled") == "true"
    assert seen == ["true"]
    jvm = spark.sparkContext._jvm
    spark.sparkContext.setLogLevel("WARN")  # as every environment but the tests' logs
    try:
        for name in QUIETED_LOGGERS:
            jvm.java.lang.Class.forName(name)  # raises if a Spark upgrade moved the class
            assert str(jvm.org.apache.logging.log4j.LogManager.getLogger(name).getLevel()) == "ERROR"
        assert str(jvm.org.apache.logging.log4j.LogManager.getRootLogger().getLevel()) == "WARN"
    finally:
        spark.sparkContext.setLogLevel(test_config(tmp_path).spark.log_level)
