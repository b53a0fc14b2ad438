"""TableSpec: one declaration per table (layer, name, contract, partitioning, keys)."""
from __future__ import annotations

import dataclasses

from pyspark.sql import types as T


@dataclasses.dataclass(frozen=True)
class TableSpec:
    layer: str
    name: str
    schema: T.StructType
    partition_by: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    description: str = ""
    # record row-level changes, so downstream jobs can see which partitions a commit touched
    change_feed: bool = False
    # rewrite the table into one file once it holds this many (None: never): for unpartitioned
    # tables that gain a small file at every job of every run and are read by the next jobs,
    # so their reads do not slow night after night. Only for tables written by append_rows,
    # which does the compaction: the newest commit after a write may be that compaction, so a
    # write that reads its own commit back (append, merge_into, replace_where) refuses them.
    compact_at_files: int | None = None
    # the columns whose minimum, maximum and null count Delta keeps in each data file's
    # statistics, to skip files on filters over them (None: Delta's default, the first 32
    # columns). Every row written updates them, so a wide table names only its keys, times and
    # the columns its readers filter on (docs/PERFORMANCE.md: 4M silver.events rows were written
    # in 13 s with five instead of 19 s with all 28)
    stats_columns: tuple[str, ...] | None = None

    def __post_init__(self):
        unknown = sorted(set(self.stats_columns or ()) - set(self.columns))
        if unknown or set(self.stats_columns or ()) & set(self.partition_by) or self.stats_columns == ():
            raise ValueError(f"{self.layer}.{self.name}: stats_columns must name some of its columns, not its "
                             f"partition columns (unknown: {', '.join(unknown) or 'none'})")
        if self.compact_at_files is not None and (self.partition_by or self.compact_at_files < 2):
            raise ValueError(f"{self.layer}.{self.name}: compact_at_files needs an unpartitioned table and at "
                             "least 2 files (a compacted partitioned table keeps a file per partition)")

    @property
    def full_name(self) -> str:
        """The catalog name, `<layer>.<table>`."""
        return f"{self.layer}.{self.name}"

    @property
    def columns(self) -> list[str]:
        return [field.name for field in self.schema.fields]
