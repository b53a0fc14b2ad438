"""The build ledgers as a process sees them: read from the table once, then kept current by
the process's own appends, and read again whenever anything else changed the table."""
import dataclasses
import datetime as dt
import shutil

import pytest

from jobs.common.delta_log import latest_version
from jobs.common.io import InputError, append, append_rows, partitions, read_table, table_path
from jobs.common.ledger import LEDGER_COLUMNS, append_builds, consumed_versions, last_build, ledger_rows
from schemas.gold import DAILY_KPIS
from schemas.ops import TABLE_BUILDS
from tests.integration.test_delta_roundtrip import D1, D2, ORDERS, orders
from schemas.events import EVENTS, SESSIONS

BUILT = dt.datetime(2024, 3, 2, 3, 0)
D3 = D2 + dt.timedelta(days=1)


def build(target, source, version, target_version, minute=0):
    return (target.full_name, source.full_name, version, None, None, target_version, "run", "code",
            BUILT + dt.timedelta(minutes=minute))


def jobs_run(spark, action) -> int:
    """How many Spark jobs `action` started."""
    tracker = spark.sparkContext.statusTracker()
    spark.sparkContext.setJobGroup("ledger-test", "counting jobs")
    try:
        before = len(tracker.getJobIdsForGroup("ledger-test"))
        action()
        return len(tracker.getJobIdsForGroup("ledger-test")) - before
    finally:
        spark.sparkContext.setJobGroup("", "")


def delete_table(spark, path: str) -> None:
    """Delete a Delta table's folder, and Delta's cached log of it, as if another process had."""
    shutil.rmtree(path)
    spark.sparkContext._jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()


def table_rows(spark, cfg) -> list[tuple]:
    columns = LEDGER_COLUMNS[TABLE_BUILDS.full_name]
    return sorted(tuple(row) for row in read_table(spark, cfg, TABLE_BUILDS).select(*columns).collect())


def test_a_process_reads_a_ledger_once_and_again_only_after_a_commit_not_its_own(spark, cfg):
    assert ledger_rows(spark, cfg, TABLE_BUILDS) == []  # no ledger yet
    append_builds(spark, cfg, [build(SESSIONS, EVENTS, 3, 1)])
    assert last_build(spark, cfg, SESSIONS, EVENTS) == (3, 1)  # the first read of the table
    append_builds(spark, cfg, [build(SESSIONS, EVENTS, 5, 2, minute=1), build(DAILY_KPIS, SESSIONS, 7, None)])

    # the process's own appends are known without reading the table again
    assert jobs_run(spark, lambda: ledger_rows(spark, cfg, TABLE_BUILDS)) == 0
    assert sorted(ledger_rows(spark, cfg, TABLE_BUILDS)) == table_rows(spark, cfg)
    assert last_build(spark, cfg, SESSIONS, EVENTS) == (5, 2)
    assert consumed_versions(spark, cfg, DAILY_KPIS) == {SESSIONS.full_name: 7}
    assert last_build(spark, cfg, DAILY_KPIS, SESSIONS) == (7, None)

    # a commit by anyone else (here a write that bypasses the ledger functions) is read
    append_rows(spark.createDataFrame([build(SESSIONS, EVENTS, 9, 4, minute=2)], TABLE_BUILDS.schema), cfg,
                TABLE_BUILDS)
    assert last_build(spark, cfg, SESSIONS, EVENTS) == (9, 4)
    append_builds(spark, cfg, [build(SESSIONS, EVENTS, 11, 5, minute=3)])
    assert sorted(ledger_rows(spark, cfg, TABLE_BUILDS)) == table_rows(spark, cfg)

    # a ledger deleted and created anew at the same path, up to the same version as before: read
    path = table_path(cfg, TABLE_BUILDS)
    version_before = latest_version(spark, path)
    delete_table(spark, path)
    for n in range(version_before + 1):
        append_rows(spark.createDataFrame([build(SESSIONS, EVENTS, 100 + n, n)], TABLE_BUILDS.schema), cfg,
                    TABLE_BUILDS)
    assert latest_version(spark, path) == version_before
    assert last_build(spark, cfg, SESSIONS, EVENTS) == (100 + version_before, version_before)
    assert sorted(ledger_rows(spark, cfg, TABLE_BUILDS)) == table_rows(spark, cfg)


def test_partitions_are_listed_once_per_table_version_and_again_for_a_table_created_anew(spark, cfg):
    """partitions() keeps each (table, version)'s partition values for the process: a version's
    files never change, but a table deleted and created anew at the same path is another table."""
    path = table_path(cfg, ORDERS)
    append(orders(spark, [(1, "placed", D1)]), cfg, ORDERS)
    append(orders(spark, [(2, "placed", D2)]), cfg, ORDERS)
    assert partitions(spark, cfg, ORDERS, version=1) == {(D1.isoformat(),)}
    assert partitions(spark, cfg, ORDERS) == {(D1.isoformat(),), (D2.isoformat(),)}
    assert jobs_run(spark, lambda: partitions(spark, cfg, ORDERS, version=1)) == 0  # listed before

    delete_table(spark, path)
    for rows in ([(3, "placed", D2)], [(4, "placed", D3)]):  # versions 0 and 1 of a new table
        orders(spark, rows).write.format("delta").mode("append").partitionBy("order_date").save(path)
    assert latest_version(spark, path) == 1
    assert partitions(spark, cfg, ORDERS, version=1) == {(D2.isoformat(),), (D3.isoformat(),)}
    with pytest.raises(InputError, match="does not exist"):
        partitions(spark, cfg, dataclasses.replace(ORDERS, name="never_written"))
