"""ops.table_builds: which source version a derived table was last rebuilt from, and for
which dates. A job that derives one table from another reads the changes since the
version it last consumed, rebuilds the dates they touch, then appends its ledger row;
killed in between, it simply rebuilds the same dates again.

Both ledgers (this one and ops.gold_builds) are read and appended through ledger_rows and
append_ledger, which read each one once per process."""
from __future__ import annotations

import datetime as dt

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.common.config import JobConfig
from jobs.common.delta_log import table_state
from jobs.common.io import Commit, append_rows, read_table, table_exists, table_path
from jobs.common.runs import RunContext
from jobs.common.version import code_version
from schemas.ops import GOLD_BUILDS, TABLE_BUILDS
from schemas.spec import TableSpec

# The columns the lookups below read, in this order. A read of a ledger costs a Spark job and
# Delta's planning (about 1.3 s each on 2 cores, warm) and every gold job made two; so each
# process reads a ledger once, then adds its own appends to what it read (ledger_rows).
LEDGER_COLUMNS = {
    TABLE_BUILDS.full_name: ("target", "source", "source_version", "target_version", "built_ts"),
    GOLD_BUILDS.full_name: ("table", "business_date"),
}
# table path -> (table id, Delta version, the rows at that version): what this process knows
_KNOWN: dict[str, tuple[str, int, list[tuple]]] = {}


def ledger_rows(spark: SparkSession, cfg: JobConfig, spec: TableSpec) -> list[tuple]:
    """The LEDGER_COLUMNS of every row of a ledger at its newest version ([] if it does not
    exist). Read from the table only when the table's id or version is not the one this
    process last knew: another process's commit, a restore or a table created anew at the
    same path."""
    if not table_exists(spark, cfg, spec):
        return []
    path = table_path(cfg, spec)
    state = table_state(spark, path)
    known = _KNOWN.get(path)
    if known is None or known[:2] != state:
        table = read_table(spark, cfg, spec, version=state[1]).select(*LEDGER_COLUMNS[spec.full_name])
        known = _KNOWN[path] = (*state, [tuple(row) for row in table.collect()])
    return known[2]


def append_ledger(spark: SparkSession, cfg: JobConfig, spec: TableSpec, rows: list[tuple]) -> None:
    """Append rows (tuples in the ledger's column order) to a ledger, in one commit. What this
    process knows of the ledger gains them if no other commit came between its last read and
    this write (the table is then exactly one commit, or two with a compaction, further on);
    otherwise the next ledger_rows reads the table."""
    path = table_path(cfg, spec)
    known = _KNOWN.pop(path, None)
    compacted = append_rows(spark.createDataFrame(rows, spec.schema), cfg, spec)
    if known is not None and table_state(spark, path) == (known[0], known[1] + 1 + compacted):
        picked = [spec.columns.index(column) for column in LEDGER_COLUMNS[spec.full_name]]
        _KNOWN[path] = (known[0], known[1] + 1 + compacted,
                        known[2] + [tuple(row[i] for i in picked) for row in rows])


def last_source_version(spark: SparkSession, cfg: JobConfig, target: TableSpec, source: TableSpec) -> int | None:
    built = last_build(spark, cfg, target, source)
    return None if built is None else built[0]


def last_build(spark: SparkSession, cfg: JobConfig, target: TableSpec, source: TableSpec) -> tuple[int, int | None] | None:
    """(source version, target version) of the newest build of `target` from `source`, or None."""
    builds = [(version, built_ts, target_version)
              for name, source_name, version, target_version, built_ts in ledger_rows(spark, cfg, TABLE_BUILDS)
              if name == target.full_name and source_name == source.full_name]
    if not builds:
        return None
    version, _, target_version = max(builds, key=lambda build: build[:2])
    return int(version), None if target_version is None else int(target_version)


def consumed_versions(spark: SparkSession, cfg: JobConfig, target: TableSpec) -> dict[str, int]:
    """Source full name -> the newest version `target` was built from."""
    newest: dict[str, int] = {}
    for name, source, version, _, _ in ledger_rows(spark, cfg, TABLE_BUILDS):
        if name == target.full_name:
            newest[source] = max(int(version), newest.get(source, -1))
    return newest


def build_row(ctx: RunContext, target: TableSpec, source: str, source_version: int, start: dt.date | None,
              end: dt.date | None, target_version: int | None) -> tuple:
    """One ops.table_builds row: `target` (at `target_version`, None if this build wrote
    nothing) was built from version `source_version` of `source`."""
    built = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return (target.full_name, source, source_version, start, end, target_version, ctx.run_id, code_version(), built)


def append_builds(spark: SparkSession, cfg: JobConfig, rows: list[tuple]) -> None:
    """Record build_row rows, in one commit."""
    append_ledger(spark, cfg, TABLE_BUILDS, rows)


def record_builds(spark: SparkSession, cfg: JobConfig, ctx: RunContext, target: TableSpec,
                  sources: dict[str, int], start: dt.date | None, end: dt.date | None,
                  target_commit: Commit | None) -> None:
    """record_build for several sources at once, in one commit."""
    target_version = target_commit.version if target_commit else None
    append_builds(spark, cfg, [build_row(ctx, target, source, version, start, end, target_version)
                               for source, version in sorted(sources.items())])


def record_build(spark: SparkSession, cfg: JobConfig, ctx: RunContext, target: TableSpec, source: TableSpec,
                 source_version: int, start: dt.date | None, end: dt.date | None,
                 target_commit: Commit | None) -> None:
    append_builds(spark, cfg, [build_row(ctx, target, source.full_name, source_version, start, end,
                                         target_commit.version if target_commit else None)])


# the column of each ledger naming the table a row is about
_TARGET_COLUMN = {TABLE_BUILDS.full_name: "target", GOLD_BUILDS.full_name: "table"}


def derived_build_rows(spark: SparkSession, cfg: JobConfig, tables: frozenset[str]) -> dict[str, int]:
    """Ledger full name -> how many of its rows are about one of `tables` (full names)."""
    return {spec.full_name: sum(1 for row in ledger_rows(spark, cfg, spec) if row[0] in tables)
            for spec in (TABLE_BUILDS, GOLD_BUILDS)}


def drop_derived_builds(spark: SparkSession, cfg: JobConfig, tables: frozenset[str]) -> dict[str, int]:
    """Delete the ledger rows about `tables`, one commit per ledger that has some; what was
    deleted, as derived_build_rows counts it."""
    counts = derived_build_rows(spark, cfg, tables)
    for spec in (TABLE_BUILDS, GOLD_BUILDS):
        if counts[spec.full_name]:
            path = table_path(cfg, spec)
            DeltaTable.forPath(spark, path).delete(F.col(_TARGET_COLUMN[spec.full_name]).isin(sorted(tables)))
            _KNOWN.pop(path, None)
    return counts
