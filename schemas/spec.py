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
    # compact small files after a write once a partition holds enough of them (Delta's auto
    # compaction): for tables that gain a small file at every job of every run and are read
    # by the next jobs, so their reads do not slow night after night. Only for tables written
    # by append_rows: the newest commit after a write may then be the compaction, so a write
    # that reads its own commit back (append, merge_into, replace_where) refuses such a table.
    auto_compact: bool = False

    @property
    def full_name(self) -> str:
        """The catalog name, `<layer>.<table>`."""
        return f"{self.layer}.{self.name}"

    @property
    def columns(self) -> list[str]:
        return [field.name for field in self.schema.fields]
