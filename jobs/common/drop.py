"""Dropping silver and gold so that they are built again from bronze.

Silver and gold hold nothing that bronze does not: every row of them can be computed again.
What makes them incremental is kept in three places, and a rebuild clears all three, in this
order, so that a kill at any point leaves a state the next attempt can finish:

1. the rows of ops.table_builds and ops.gold_builds about silver and gold tables (what each
   derived table was built from, and which gold dates exist);
2. the streaming checkpoints of the silver jobs' bronze readers (which bronze files each has
   taken);
3. the tables' folders. Each folder is first renamed to a hidden sibling and then deleted, so
   a kill leaves the whole table or none of it (a rename is one operation on a local disk and
   on HDFS; on an object store it copies, so there a drop takes as long as copying the
   tables), plus a hidden folder that the next drop removes.

While this runs, a marker file in the warehouse makes every other job refuse to start: a
pipeline run over half-dropped state would build silver from part of bronze. The marker goes
only when the drop is complete.
"""
from __future__ import annotations

import dataclasses
import logging

from pyspark.sql import SparkSession

from jobs.common.config import JobConfig, resolve_path
from jobs.common.delta_log import hadoop_fs
from jobs.common.io import InputError, forget_table, table_exists, table_path
from jobs.common.ledger import derived_build_rows, drop_derived_builds
from jobs.common.report import table_inventory
from schemas.spec import TableSpec
from schemas.tables import ALL_TABLES

log = logging.getLogger(__name__)

DERIVED_LAYERS = ("silver", "gold")
DERIVED_TABLES: tuple[TableSpec, ...] = tuple(spec for spec in ALL_TABLES if spec.layer in DERIVED_LAYERS)
DERIVED_NAMES = frozenset(spec.full_name for spec in DERIVED_TABLES)
BRONZE_TABLES: tuple[TableSpec, ...] = tuple(spec for spec in ALL_TABLES if spec.layer == "bronze")
# written before anything is dropped, removed when all of it is
PENDING_MARKER = "_rebuild_from_bronze_pending"
_DROPPED = ".dropped"  # suffix of a folder renamed aside to be deleted


class DropPending(InputError):
    """A drop of silver and gold was interrupted; only finishing it may run."""


@dataclasses.dataclass(frozen=True)
class DropPlan:
    """What a drop removes: tables as (name, version, rows, path), checkpoint folders, and the
    ledger rows per ledger."""
    tables: list[tuple]
    checkpoints: list[str]
    ledger_rows: dict[str, int]


def plan_drop(spark: SparkSession, cfg: JobConfig) -> DropPlan:
    checkpoints = [folder for folder in _checkpoint_folders(cfg) if _exists(spark, folder)]
    return DropPlan(table_inventory(spark, cfg, DERIVED_TABLES), checkpoints,
                    derived_build_rows(spark, cfg, DERIVED_NAMES))


def drop_derived(spark: SparkSession, cfg: JobConfig) -> None:
    """Remove silver, gold, their checkpoints and their ledger rows (the module's three steps)."""
    _write_marker(spark, cfg)
    counts = drop_derived_builds(spark, cfg, DERIVED_NAMES)
    log.info("deleted the ledger rows of silver and gold: %s", counts)
    for folder in _checkpoint_folders(cfg):
        remove_folder(spark, folder)
    for spec in DERIVED_TABLES:
        forget_table(spark, cfg, spec)
        remove_folder(spark, table_path(cfg, spec))
    # Delta keeps each table's log object per path; a table created again at a path must not
    # be answered from the object of the table that was there
    spark.sparkContext._jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()
    fs, marker = hadoop_fs(spark, _marker(cfg))
    fs.delete(marker, False)
    log.info("dropped silver and gold under %s", cfg.paths.warehouse)


def refuse_if_pending(spark: SparkSession, cfg: JobConfig) -> None:
    """Raise DropPending if a drop began and did not finish."""
    if _exists(spark, _marker(cfg)):
        raise DropPending(f"a rebuild_from_bronze was stopped while it dropped silver and gold ({_marker(cfg)} "
                          "is still there), so they are half gone; run `rebuild_from_bronze --yes` again to finish "
                          "it: no other job runs before it has")


def bronze_exists(spark: SparkSession, cfg: JobConfig) -> bool:
    return any(table_exists(spark, cfg, spec) for spec in BRONZE_TABLES)


def remove_folder(spark: SparkSession, folder: str) -> None:
    """Delete `folder` and all under it, renaming it aside first; also removes what an earlier
    interrupted removal left aside."""
    fs, path = hadoop_fs(spark, folder)
    aside = hadoop_fs(spark, aside_of(folder))[1]
    if fs.exists(aside):
        fs.delete(aside, True)
    if not fs.exists(path):
        return
    if not fs.rename(path, aside):
        raise InputError(f"could not move {folder} aside to delete it; check the permissions of its parent folder")
    fs.delete(aside, True)


def aside_of(folder: str) -> str:
    """Where remove_folder moves `folder` before deleting it: a hidden sibling."""
    parent, _, name = folder.rstrip("/").rpartition("/")
    return f"{parent}/.{name}{_DROPPED}"


def _checkpoint_folders(cfg: JobConfig) -> list[str]:
    root = resolve_path(cfg.paths.checkpoints).rstrip("/")
    return [f"{root}/{layer}" for layer in DERIVED_LAYERS]


def _marker(cfg: JobConfig) -> str:
    return f"{resolve_path(cfg.paths.warehouse).rstrip('/')}/{PENDING_MARKER}"


def _write_marker(spark: SparkSession, cfg: JobConfig) -> None:
    fs, marker = hadoop_fs(spark, _marker(cfg))
    fs.create(marker, True).close()


def _exists(spark: SparkSession, location: str) -> bool:
    fs, path = hadoop_fs(spark, location)
    return bool(fs.exists(path))
