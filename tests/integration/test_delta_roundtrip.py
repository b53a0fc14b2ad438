"""Delta Lake through delta-spark on the pinned pyspark: create, append, MERGE, time travel, history."""
import dataclasses
import datetime as dt
import logging
from pathlib import Path

import pytest

import pyspark
from chispa import assert_df_equality
from delta.tables import DeltaTable
from pyspark.sql import types as T

from jobs.common.delta_log import file_count, is_empty, latest_commit, latest_version, table_property
from jobs.common.io import (AUTO_COMPACT, InputError, append, append_rows, changed_rows, ensure_table, last_commit,
                            merge_into, overwrite_range, read_table, set_table_property, table_path)
from jobs.common.report import table_inventory
from schemas.ops import TABLE_BUILDS
from schemas.spec import TableSpec
from tests.conftest import test_config

ORDERS = TableSpec("silver", "roundtrip_orders", T.StructType([
    T.StructField("order_id", T.LongType(), nullable=False),
    T.StructField("status", T.StringType(), nullable=False),
    T.StructField("order_date", T.DateType(), nullable=False),
]), partition_by=("order_date",), keys=("order_id",))

D1, D2 = dt.date(2024, 3, 1), dt.date(2024, 3, 2)


def orders(spark, rows):
    return spark.createDataFrame(rows, ORDERS.schema)


def test_pinned_versions_are_the_ones_running(spark):
    assert pyspark.__version__ == "4.2.0"
    assert spark.version.startswith("4.2.")


def test_delta_round_trip_append_merge_time_travel_history(spark, cfg):
    first = append(orders(spark, [(1, "placed", D1), (2, "placed", D1)]), cfg, ORDERS)
    merged = merge_into(orders(spark, [(2, "paid", D1), (3, "placed", D2)]), cfg, ORDERS)

    assert (first.version, first.rows) == (1, 2)   # version 0 is the CREATE from the contract
    assert (merged.version, merged.rows) == (2, 2)  # one update, one insert
    assert_df_equality(read_table(spark, cfg, ORDERS),
                       orders(spark, [(1, "placed", D1), (2, "paid", D1), (3, "placed", D2)]),
                       ignore_row_order=True)
    assert_df_equality(read_table(spark, cfg, ORDERS, version=1),
                       orders(spark, [(1, "placed", D1), (2, "placed", D1)]), ignore_row_order=True)
    history = DeltaTable.forPath(spark, table_path(cfg, ORDERS)).history().orderBy("version")
    assert [r["operation"] for r in history.collect()] == ["CREATE TABLE", "WRITE", "MERGE"]


def test_table_is_queryable_by_catalog_name(spark, cfg):
    append(orders(spark, [(7, "placed", D1)]), cfg, ORDERS)
    assert spark.sql("SELECT count(*) AS n FROM silver.roundtrip_orders").first()["n"] == 1


def test_contract_not_null_is_enforced(spark, cfg):
    ensure_table(spark, cfg, ORDERS)
    nullable = T.StructType([T.StructField(f.name, f.dataType, True) for f in ORDERS.schema.fields])
    bad = spark.createDataFrame([(1, None, D1)], nullable)
    try:
        append(bad, cfg, ORDERS)
    except Exception as exc:  # Delta's invariant violation
        assert "NOT NULL" in str(exc) or "null" in str(exc).lower()
    else:
        raise AssertionError("a null in a NOT NULL column was written")
    assert read_table(spark, cfg, ORDERS).count() == 0


def test_overwrite_range_replaces_only_that_range_and_is_idempotent(spark, cfg):
    append(orders(spark, [(1, "placed", D1), (2, "placed", D2)]), cfg, ORDERS)
    for _ in range(2):
        overwrite_range(orders(spark, [(5, "paid", D2)]), cfg, ORDERS, "order_date", D2, D2)
    assert_df_equality(read_table(spark, cfg, ORDERS),
                       orders(spark, [(1, "placed", D1), (5, "paid", D2)]), ignore_row_order=True)


def test_merge_update_condition_keeps_newer_target_row(spark, cfg):
    append(orders(spark, [(1, "shipped", D2)]), cfg, ORDERS)
    merge_into(orders(spark, [(1, "placed", D1)]), cfg, ORDERS, update_condition="s.order_date > t.order_date")
    assert [r["status"] for r in read_table(spark, cfg, ORDERS).collect()] == ["shipped"]


def test_merge_skip_unchanged_gives_the_same_table_without_rewriting_untouched_files(spark, cfg):
    """A whole snapshot MERGEd with an update condition: Delta rewrites every file holding a
    matched row, even when the condition leaves the row alone (the plain twin shows it);
    skip_unchanged drops those source rows first, so only files with a real update are rewritten."""
    snapshot = [(1, "placed", D1), (2, "paid", D2), (3, "placed", D1), (4, "placed", D2)]  # same, newer, older, new
    copied = {}
    for spec, skip in ((ORDERS, True), (dataclasses.replace(ORDERS, name="roundtrip_orders_plain"), False)):
        append(orders(spark, [(1, "placed", D1), (2, "placed", D1), (3, "shipped", D2)]).coalesce(1), cfg, spec)
        merge_into(orders(spark, snapshot), cfg, spec, update_condition="s.order_date > t.order_date",
                   skip_unchanged=skip)
        assert_df_equality(read_table(spark, cfg, spec).select(*ORDERS.columns),
                           orders(spark, [(1, "placed", D1), (2, "paid", D2), (3, "shipped", D2), (4, "placed", D2)]),
                           ignore_row_order=True)
        _, metrics = latest_commit(spark, table_path(cfg, spec))
        copied[skip] = (metrics["numSourceRows"], metrics["numTargetRowsCopied"])
    # skipped: order 1 (same) and 3 (older); only the D1 file, where order 2 changed, is rewritten
    assert copied == {True: ("2", "1"), False: ("4", "2")}


def test_a_table_under_a_path_with_a_quote_and_a_backslash_is_registered_its_changes_read_its_properties_set(
        spark, tmp_path):
    """The catalog's CREATE TABLE ... LOCATION, changed_rows (Delta's SQL function) and
    set_table_property (ALTER TABLE delta.`path`) put the table's path into SQL: a quote in it
    once broke the registration. (A backtick in the path is refused by the configuration.)"""
    cfg = test_config(tmp_path / "it's a \\ path")
    spec = dataclasses.replace(ORDERS, change_feed=True)
    append(orders(spark, [(1, "placed", D1)]), cfg, spec)
    merge_into(orders(spark, [(1, "paid", D1), (2, "placed", D2)]), cfg, spec)
    changes = changed_rows(spark, cfg, spec, 1, latest_version(spark, table_path(cfg, spec)))
    assert sorted((r["order_id"], r["status"], r["_change_type"]) for r in changes.collect()) == [
        (1, "paid", "update_postimage"), (1, "placed", "update_preimage"), (2, "placed", "insert")]
    path, value = table_path(cfg, spec), "it's a \\ value with a ` in it"
    set_table_property(spark, path, "lakehouse.note", value)
    assert table_property(spark, path, "lakehouse.note") == value
    set_table_property(spark, path, "lakehouse.note", None)
    assert table_property(spark, path, "lakehouse.note") is None


def test_delta_log_reads_answer_as_history_does_without_falling_back(spark, cfg, caplog):
    """The fast reads of jobs.common.delta_log use Delta's internal log API: a Delta upgrade
    that changes it makes them fall back (slower), and this test fail."""
    caplog.set_level(logging.WARNING, logger="jobs.common.delta_log")
    path = table_path(cfg, ORDERS)
    ensure_table(spark, cfg, ORDERS)
    assert is_empty(spark, path)
    append(orders(spark, [(1, "placed", D1), (2, "placed", D1)]), cfg, ORDERS)
    merge_into(orders(spark, [(2, "paid", D1), (3, "placed", D2)]), cfg, ORDERS)
    newest = DeltaTable.forPath(spark, path).history(1).first()
    assert latest_version(spark, path) == newest["version"] == 2
    version, metrics = latest_commit(spark, path)
    assert (version, metrics) == (2, dict(newest["operationMetrics"]))
    assert metrics["numTargetRowsInserted"] == "1"
    assert not is_empty(spark, path)
    assert not [r for r in caplog.records if "failed" in r.getMessage()]


def test_a_ledger_is_compacted_once_its_small_files_gather_and_not_at_every_write(spark, cfg, caplog):
    """Every job of every run appends a small file to ops.table_builds and ops.gold_builds, and
    the next jobs read them: a ledger of 6,000 files (a year of nights) took 4.8 s a read
    against 0.55 s for one file. append_rows rewrites a ledger into one file once it holds
    compact_at_files (50; 3 here), and only then. Delta's auto compaction, which did this
    before, compacted after every write of a process once it had run in it (2-3 s a write);
    a ledger created with its property loses it at the first write of a run."""
    caplog.set_level(logging.WARNING, logger="jobs.common.delta_log")
    spec = dataclasses.replace(TABLE_BUILDS, compact_at_files=3)
    path = table_path(cfg, spec)
    (DeltaTable.createIfNotExists(spark).location(path).addColumns(spec.schema)
     .property(AUTO_COMPACT, "true").execute())  # as 51d0de4 created the ledgers
    built = dt.datetime(2024, 3, 2)
    for n in range(4):
        rows = [("gold.daily_kpis", "silver.events", n, D1, D1, n, f"run{n}", "code", built)]
        append_rows(spark.createDataFrame(rows, spec.schema).coalesce(1), cfg, spec)
    assert table_property(spark, path, AUTO_COMPACT) is None
    table = DeltaTable.forPath(spark, path)
    operations = [r["operation"] for r in table.history().orderBy("version").collect()]
    # created, property unset, three appends, the compaction, an append after it, not compacted
    assert operations == ["CREATE TABLE", "UNSET TBLPROPERTIES", "WRITE", "WRITE", "WRITE", "OPTIMIZE", "WRITE"], \
        operations
    assert file_count(spark, path) == 2
    assert sorted(r["source_version"] for r in read_table(spark, cfg, spec).collect()) == [0, 1, 2, 3]
    assert not [r for r in caplog.records if "failed" in r.getMessage()]  # the property and count read from the log
    with pytest.raises(ValueError, match="compacted after a write"):  # its newest commit may not be the write
        last_commit(spark, cfg, spec)
    with pytest.raises(ValueError, match="unpartitioned"):
        dataclasses.replace(spec, partition_by=("start_date",))


def test_table_inventory_gives_each_existing_table_its_version_and_rows_in_order(spark, cfg):
    """What `make run` and `tables` print: tables that do not exist are left out, the others
    keep the order asked, each with its newest version and its rows at that version (counted
    several at a time)."""
    other, missing = (dataclasses.replace(ORDERS, name=name) for name in ("roundtrip_other", "roundtrip_missing"))
    append(orders(spark, [(1, "placed", D1), (2, "placed", D2)]), cfg, ORDERS)
    merge_into(orders(spark, [(2, "paid", D2), (3, "placed", D2)]), cfg, ORDERS)
    append(orders(spark, [(9, "placed", D1)]), cfg, other)
    assert table_inventory(spark, cfg, [other, missing, ORDERS]) == [
        ("silver.roundtrip_other", 1, 1, table_path(cfg, other)),
        ("silver.roundtrip_orders", 2, 3, table_path(cfg, ORDERS))]


def newest_job(spark) -> int:
    return max(spark.sparkContext.statusTracker().getJobIdsForGroup(None), default=-1)


def test_file_count_reads_the_commit_checksum_and_without_one_the_table_state(spark, cfg):
    """file_count reads the checksum Delta writes with each commit and runs no Spark job (the
    reconstructed state it read before cost a job of 0.6-0.9 s here, after every ledger append
    and before every MERGE). A version without a checksum (a writer need not write one) is
    counted from its state, by a job. Both count the table's files."""
    append(orders(spark, [(1, "placed", D1), (2, "placed", D2)]), cfg, ORDERS)  # one file per date
    append(orders(spark, [(3, "placed", D2)]), cfg, ORDERS)
    path = table_path(cfg, ORDERS)
    before = newest_job(spark)
    assert file_count(spark, path) == 3
    assert newest_job(spark) == before
    for checksum in Path(path, "_delta_log").glob(f"*{latest_version(spark, path):020d}.crc*"):
        checksum.unlink()  # the newest version's, and the local file system's checksum of it
    spark.sparkContext._jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()  # as a new process finds it
    before = newest_job(spark)
    assert file_count(spark, path) == 3
    assert newest_job(spark) > before


def test_merge_into_an_empty_table_appends_the_rows(spark, cfg):
    written = merge_into(orders(spark, [(1, "placed", D1), (2, "paid", D2)]), cfg, ORDERS,
                         update_condition="s.order_date > t.order_date", delete_missing=True)
    assert (written.version, written.rows) == (1, 2)
    assert_df_equality(read_table(spark, cfg, ORDERS), orders(spark, [(1, "placed", D1), (2, "paid", D2)]),
                       ignore_row_order=True)
    history = DeltaTable.forPath(spark, table_path(cfg, ORDERS)).history().orderBy("version")
    assert [r["operation"] for r in history.collect()] == ["CREATE TABLE", "WRITE"]


def killed_creation(cfg, spec, *extra: str) -> Path:
    """The _delta_log a run killed while creating `spec` leaves: Delta's hidden temporary
    commit file and its checksum, an empty staged-commits folder; plus `extra` files."""
    log_dir = Path(table_path(cfg, spec)) / "_delta_log"
    (log_dir / "_staged_commits").mkdir(parents=True)
    (log_dir / ".00000000000000000000.json.5f0c.tmp").write_text('{"commitInfo":{}}\n')
    (log_dir / "..00000000000000000000.json.5f0c.tmp.crc").write_bytes(b"crc")
    for name in extra:
        (log_dir / name).write_text("{}\n")
    return log_dir


def test_a_creation_killed_before_its_first_commit_is_redone(spark, cfg, caplog):
    killed_creation(cfg, ORDERS)
    with caplog.at_level(logging.WARNING, logger="jobs.common.delta_log"):
        written = append(orders(spark, [(1, "placed", D1)]), cfg, ORDERS)
    assert (written.version, written.rows) == (1, 1)
    assert_df_equality(read_table(spark, cfg, ORDERS), orders(spark, [(1, "placed", D1)]))
    assert "table creation that was interrupted" in caplog.text


def test_a_delta_log_with_more_than_a_killed_creation_is_left_alone(spark, cfg):
    log_dir = killed_creation(cfg, ORDERS, "_staged_commits/00000000000000000000.5f0c.json")
    with pytest.raises(InputError, match="_delta_log exists but Delta finds no table"):
        append(orders(spark, [(1, "placed", D1)]), cfg, ORDERS)
    assert (log_dir / "_staged_commits/00000000000000000000.5f0c.json").exists()
    assert (log_dir / ".00000000000000000000.json.5f0c.tmp").exists()
