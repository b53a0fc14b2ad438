"""Reading and writing the registered Delta tables, by their TableSpec.

Tables live at <warehouse>/<layer>/<table> and are registered in the Spark catalog
as <layer>.<table>. Every write goes through one of append, overwrite_range or
merge_into; each returns the Delta version it committed and the rows it wrote.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Mapping
from urllib.parse import unquote

from delta.tables import DeltaTable
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common.config import JobConfig, resolve_path
from jobs.common.delta_log import (clear_unfinished_creation, file_count, is_empty, latest_commit, latest_version,
                                   table_property, table_state)
from schemas.spec import TableSpec

log = logging.getLogger(__name__)


class InputError(RuntimeError):
    """An input the job needs is missing or unusable; nothing was written."""


@dataclasses.dataclass(frozen=True)
class Commit:
    """What one write committed: the table, its new Delta version and the rows written."""
    table: str
    version: int
    rows: int


def table_path(cfg: JobConfig, spec: TableSpec) -> str:
    return f"{resolve_path(cfg.paths.warehouse).rstrip('/')}/{spec.layer}/{spec.name}"


def table_exists(spark: SparkSession, cfg: JobConfig, spec: TableSpec) -> bool:
    return DeltaTable.isDeltaTable(spark, table_path(cfg, spec))


# Delta's auto compaction, which 51d0de4 turned on for the ledgers and which is now taken off:
# once it has run in a process, it compacted the table after every later write of that process
# (a night at 1M: 2-3 s per ledger write); append_rows compacts them instead (compact_at_files)
AUTO_COMPACT = "delta.autoOptimize.autoCompact"
# the table property holding TableSpec.stats_columns; files written before it was set keep
# the statistics they were written with
STATS_COLUMNS = "delta.dataSkippingStatsColumns"
# (application id, table path) of tables this process has already created or checked
_ENSURED: set[tuple[str, str]] = set()


def ensure_table(spark: SparkSession, cfg: JobConfig, spec: TableSpec) -> DeltaTable:
    """Create the table from its contract if it does not exist (so Delta enforces NOT NULL)."""
    create_once(spark, cfg, spec)
    return DeltaTable.forPath(spark, table_path(cfg, spec))


def create_once(spark: SparkSession, cfg: JobConfig, spec: TableSpec,
                properties: Mapping[str, str] | None = None) -> None:
    """ensure_table without the table handle, checked once per table and Spark application:
    later writes skip the catalog round trips. `properties`: Delta table properties a table
    created here starts with (an existing table's are left as they are; only the spec's
    stats_columns are set on a table that lacks them)."""
    path = table_path(cfg, spec)
    seen = (spark.sparkContext.applicationId, path)
    if seen in _ENSURED:
        return
    try:
        _create_if_missing(spark, path, spec, properties or {})
    except AnalysisException as error:  # a _delta_log folder without a commit Delta can read
        if error.getCondition() != "DELTA_TABLE_NOT_FOUND":
            raise
        if not clear_unfinished_creation(spark, path):
            raise InputError(f"{path}/_delta_log exists but Delta finds no table in it ({error.getCondition()}); "
                             "it holds files other than an interrupted creation's: inspect them, and if the "
                             "table never held data, move the folder away and rerun") from error
        _create_if_missing(spark, path, spec, properties or {})
    if spec.layer == "ops" and table_property(spark, path, AUTO_COMPACT) is not None:  # set by 51d0de4
        set_table_property(spark, path, AUTO_COMPACT, None)
    stats_columns = ",".join(spec.stats_columns or ())
    if stats_columns and table_property(spark, path, STATS_COLUMNS) != stats_columns:
        set_table_property(spark, path, STATS_COLUMNS, stats_columns)  # a table from before them
    register(spark, cfg, spec)
    _ENSURED.add(seen)


def forget_table(spark: SparkSession, cfg: JobConfig, spec: TableSpec) -> None:
    """Forget what this process knew of a table whose folder was deleted: that it was created,
    and its name in the session catalog (the next write creates and registers it again)."""
    path = table_path(cfg, spec)
    app = spark.sparkContext.applicationId
    _ENSURED.discard((app, path))
    _REGISTERED.pop((app, spec.full_name), None)
    if spark.catalog.tableExists(spec.full_name):
        spark.sql(f"DROP TABLE IF EXISTS {spec.full_name}")  # an external table: only the name goes


def _create_if_missing(spark: SparkSession, path: str, spec: TableSpec, properties: Mapping[str, str]) -> None:
    builder = (DeltaTable.createIfNotExists(spark)
               .location(path)
               .addColumns(spec.schema)
               .partitionedBy(*spec.partition_by)
               .property("delta.enableChangeDataFeed", str(spec.change_feed).lower()))
    if spec.stats_columns:
        builder = builder.property(STATS_COLUMNS, ",".join(spec.stats_columns))
    for key, value in properties.items():
        builder = builder.property(key, value)
    builder.execute()


# (application id, name) -> the table path this process last pointed the name at
_REGISTERED: dict[tuple[str, str], str] = {}


def register(spark: SparkSession, cfg: JobConfig, spec: TableSpec) -> None:
    """Make `<layer>.<table>` name the table at its warehouse path in the session catalog
    (checked once per name and Spark application: a check costs a catalog lookup and a Spark job)."""
    path = table_path(cfg, spec)
    name = (spark.sparkContext.applicationId, spec.full_name)
    if _REGISTERED.get(name) == path:
        return
    _register(spark, spec, path)
    _REGISTERED[name] = path


def _register(spark: SparkSession, spec: TableSpec, path: str) -> None:
    if not spark.catalog.databaseExists(spec.layer):
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {spec.layer}")
    if spark.catalog.tableExists(spec.full_name):
        current = spark.sql(f"DESCRIBE DETAIL {spec.full_name}").select("location").first()[0]
        if current.rstrip("/").removeprefix("file:") == path.rstrip("/").removeprefix("file:"):
            return
        # An external table: dropping the name leaves the files where they are.
        spark.sql(f"DROP TABLE {spec.full_name}")
    spark.sql(f"CREATE TABLE {spec.full_name} USING DELTA LOCATION {sql_string(path)}")


def register_existing(spark: SparkSession, cfg: JobConfig, specs: tuple[TableSpec, ...]) -> list[str]:
    """Register every declared table that exists on storage; returns their names."""
    names = []
    for spec in specs:
        if table_exists(spark, cfg, spec):
            register(spark, cfg, spec)
            names.append(spec.full_name)
    return names


def _require_table(spark: SparkSession, spec: TableSpec, path: str) -> None:
    if not DeltaTable.isDeltaTable(spark, path):
        raise InputError(f"table {spec.full_name} does not exist at {path}: run the job that writes it first")


def read_table(spark: SparkSession, cfg: JobConfig, spec: TableSpec, version: int | None = None) -> DataFrame:
    """The table as a DataFrame (optionally as of an earlier Delta version)."""
    path = table_path(cfg, spec)
    _require_table(spark, spec, path)
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(path)


def overwrite(df: DataFrame, cfg: JobConfig, spec: TableSpec) -> Commit:
    """Replace the whole table by `df`, in one Delta commit (readers see old or new, never half)."""
    spark = df.sparkSession
    create_once(spark, cfg, spec)
    df.select(*spec.columns).write.format("delta").mode("overwrite").save(table_path(cfg, spec))
    return last_commit(spark, cfg, spec)


def append(df: DataFrame, cfg: JobConfig, spec: TableSpec, txn: tuple[str, int] | None = None) -> Commit:
    """Append rows. `txn` = (app id, version) makes the append idempotent: Delta skips a
    write whose version it has already committed for that app id."""
    append_rows(df, cfg, spec, txn)
    return last_commit(df.sparkSession, cfg, spec)


def append_rows(df: DataFrame, cfg: JobConfig, spec: TableSpec, txn: tuple[str, int] | None = None) -> bool:
    """append without reading the commit back (a read of the table's history): for the ops
    ledgers, whose own versions no run reports. A table with compact_at_files is rewritten into
    one file once the append leaves it that many (the file count is read from the Delta log), in
    a commit of its own; returns whether it was."""
    spark = df.sparkSession
    create_once(spark, cfg, spec)
    path = table_path(cfg, spec)
    writer = df.select(*spec.columns).write.format("delta").mode("append")
    if txn is not None:
        writer = writer.option("txnAppId", txn[0]).option("txnVersion", txn[1])
    writer.save(path)
    if spec.compact_at_files is None or file_count(spark, path) < spec.compact_at_files:
        return False
    DeltaTable.forPath(spark, path).optimize().executeCompaction()
    log.info("%s: its small files compacted", spec.full_name)
    return True


def overwrite_range(df: DataFrame, cfg: JobConfig, spec: TableSpec, column: str,
                    start: dt.date, end: dt.date, add_columns: bool = False) -> Commit:
    """Replace exactly the rows with start <= column <= end by `df` (a rerun gives the same table)."""
    return replace_where(df, cfg, spec, f"{column} >= '{start.isoformat()}' AND {column} <= '{end.isoformat()}'",
                         add_columns)


def replace_where(df: DataFrame, cfg: JobConfig, spec: TableSpec, condition: str, add_columns: bool = False) -> Commit:
    """Replace exactly the rows matching `condition` (SQL over the table) by `df`, atomically.
    `add_columns`: the contract's columns that the table lacks (see missing_columns) are added
    to it in the same commit; the rows the condition leaves keep null in them."""
    spark = df.sparkSession
    create_once(spark, cfg, spec)
    writer = df.select(*spec.columns).write.format("delta").mode("overwrite").option("replaceWhere", condition)
    if add_columns:
        writer = writer.option("mergeSchema", "true")
    writer.save(table_path(cfg, spec))
    return last_commit(spark, cfg, spec)


def missing_columns(spark: SparkSession, cfg: JobConfig, spec: TableSpec) -> list[str]:
    """The contract's columns that the table on storage lacks: it was written by an earlier
    version of the project, before they were added. Empty when the table does not exist."""
    if not table_exists(spark, cfg, spec):
        return []
    present = set(spark.read.format("delta").load(table_path(cfg, spec)).columns)  # the schema alone, no scan
    return [column for column in spec.columns if column not in present]


def merge_into(df: DataFrame, cfg: JobConfig, spec: TableSpec, keys: tuple[str, ...] | None = None,
               update_condition: str | None = None, insert_only: bool = False,
               target_filter: str | None = None, delete_missing: bool = False,
               skip_unchanged: bool = False) -> Commit:
    """Upsert by key: matched rows are updated (when `update_condition` holds, written over
    `t` the target and `s` the source), new keys are inserted. `insert_only` keeps matched
    rows as they are (an idempotent dedupe); `target_filter` (over `t`) limits the target
    rows a MERGE has to look at, e.g. to the partitions the new rows belong to;
    `delete_missing` deletes target rows whose key is not in `df` (df is then the whole
    table, and only the rows that really changed are rewritten and reach the change feed).
    `skip_unchanged` first drops the source rows that match a target row whose
    `update_condition` is false, which the MERGE would leave alone anyway: Delta rewrites
    every file holding a matched row, even one its condition does not update, so a whole
    snapshot MERGEd as is rewrites the whole table however little changed.
    Into an empty table the rows are appended: the same result, without the MERGE's join. (Like
    every write here, this assumes one writer per table at a time.)"""
    spark = df.sparkSession
    keys = keys or spec.keys
    if not keys:
        raise ValueError(f"{spec.full_name} declares no key columns to MERGE on")
    create_once(spark, cfg, spec)
    if is_empty(spark, table_path(cfg, spec)):  # (a first build) nothing to match, update or delete:
        return append(df, cfg, spec)           # the MERGE would insert every row, an append does it in one pass
    target = DeltaTable.forPath(spark, table_path(cfg, spec))
    on = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)
    if target_filter:
        on = f"({target_filter}) AND {on}"
    source = df.select(*spec.columns)
    if skip_unchanged and update_condition and not (insert_only or delete_missing):
        # NOT of a null condition is null: a row is dropped only when the MERGE surely keeps its match
        source = source.alias("s").join(target.toDF().alias("t"), F.expr(f"{on} AND NOT ({update_condition})"),
                                        "left_anti")
    merge = target.alias("t").merge(source.alias("s"), on)
    if not insert_only:
        merge = merge.whenMatchedUpdateAll(condition=update_condition)
    merge = merge.whenNotMatchedInsertAll()
    if delete_missing:
        merge = merge.whenNotMatchedBySourceDelete()
    merge.execute()
    return last_commit(spark, cfg, spec)


def any_column_differs(spec: TableSpec) -> str:
    """A MERGE update condition: some non-key column of target `t` and source `s` differs."""
    same = " AND ".join(f"t.`{c}` <=> s.`{c}`" for c in spec.columns if c not in spec.keys)
    return f"NOT ({same})"


def current_version(spark: SparkSession, cfg: JobConfig, spec: TableSpec) -> int | None:
    """The table's newest Delta version, or None if it does not exist yet."""
    path = table_path(cfg, spec)
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    return latest_version(spark, path)


def changed_values(spark: SparkSession, cfg: JobConfig, spec: TableSpec, column: str,
                   after_version: int, up_to_version: int) -> list:
    """Distinct values of `column` (a partition column) in rows that commits
    after_version+1 .. up_to_version added or changed, from the table's change feed."""
    changes = changed_rows(spark, cfg, spec, after_version, up_to_version)
    return sorted(row[0] for row in changes.select(column).distinct().collect())


def changed_rows(spark: SparkSession, cfg: JobConfig, spec: TableSpec, after_version: int | None,
                 up_to_version: int) -> DataFrame:
    """The change feed of commits after_version+1 .. up_to_version (from the start if None):
    inserted and deleted rows, and both images of updated ones (column _change_type).
    Delta's SQL function, not the reader's readChangeFeed option: the same rows, without the
    three warnings per read that Delta's copy of those options logs (duplicated keys)."""
    start = 0 if after_version is None else after_version + 1
    return spark.sql(f"SELECT * FROM table_changes_by_path({sql_string(table_path(cfg, spec))}, "
                     f"{int(start)}, {int(up_to_version)})")


def sql_string(text: str) -> str:
    """`text` as a Spark SQL string literal (Delta's table functions take no bound parameters)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def set_table_property(spark: SparkSession, path: str, key: str, value: str | None) -> None:
    """Set table property `key` of the Delta table at `path` to `value`, or unset it (None)."""
    table = "delta.`" + path.replace("`", "``") + "`"
    if value is None:
        spark.sql(f"ALTER TABLE {table} UNSET TBLPROPERTIES ({sql_string(key)})")
    else:
        spark.sql(f"ALTER TABLE {table} SET TBLPROPERTIES ({sql_string(key)} = {sql_string(value)})")


# (table path, table id, version) -> its partition values: a version's files never change
_PARTITIONS: dict[tuple[str, str, int], frozenset[tuple]] = {}


def partitions(spark: SparkSession, cfg: JobConfig, spec: TableSpec, version: int | None = None) -> set[tuple]:
    """The distinct tuples of partition values (in spec.partition_by order, as text) of the
    table's data files at `version` (None: the newest), from the Delta log's file list alone:
    no data file is read, and a version's list is made once per process (every gold job asks
    for the calendar of the same versions of silver.events and silver.page_views)."""
    path = table_path(cfg, spec)
    _require_table(spark, spec, path)
    table_id, newest = table_state(spark, path)
    key = (path, table_id, newest if version is None else version)
    if key not in _PARTITIONS:
        pattern = re.compile("".join(rf"/{re.escape(column)}=([^/]+)" for column in spec.partition_by) + "/")
        found = set()
        for file in read_table(spark, cfg, spec, key[2]).inputFiles():
            match = pattern.search(unquote(file))
            if match:
                found.add(match.groups())
        _PARTITIONS[key] = frozenset(found)
    return set(_PARTITIONS[key])


def last_commit(spark: SparkSession, cfg: JobConfig, spec: TableSpec) -> Commit:
    """The newest commit of a table: its version and the rows it wrote (from Delta's metrics)."""
    if spec.compact_at_files is not None:
        raise ValueError(f"{spec.full_name} is compacted after a write, so its newest commit may be the "
                         "compaction, not the write: write it with append_rows, which reads nothing back")
    version, metrics = latest_commit(spark, table_path(cfg, spec))
    if "numTargetRowsInserted" in metrics:  # MERGE: numOutputRows also counts rows copied unchanged
        written = int(metrics["numTargetRowsInserted"]) + int(metrics.get("numTargetRowsUpdated", 0))
    else:
        written = int(metrics.get("numOutputRows", 0))
    return Commit(spec.full_name, version, written)

