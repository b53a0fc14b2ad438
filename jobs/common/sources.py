"""Source-table declarations (conf/sources/<name>.yaml): how a production database's
tables map onto the project's OLTP contracts, so a user points the project at their own
schema by writing YAML, not code."""
from __future__ import annotations

import dataclasses
import yaml

from jobs.common.config import ConfigError, JobConfig, read_conf_file

PROJECT_TABLES = ("users", "products", "orders", "order_items", "payments")
_FIELDS = {"source", "source_columns", "key", "updated_at", "pii", "columns", "mode", "partition_column"}
DIMENSION_TABLES = ("users", "products")


@dataclasses.dataclass(frozen=True)
class SourceTable:
    name: str                          # the project table: users, products, ...
    source: str                        # the table in the database, or the dump folder
    source_columns: tuple[str, ...]
    key: tuple[str, ...]               # project key columns
    updated_at: str                    # expression over source columns
    pii: tuple[str, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()   # (project column, expression)
    mode: str = "full"                 # JDBC: full snapshot, or incremental by updated_at
    partition_column: str | None = None  # JDBC: a numeric source column to split reads on

    def expression(self, column: str) -> str:
        return dict(self.columns).get(column, column)


def load_sources(cfg: JobConfig) -> dict[str, SourceTable]:
    name = f"conf/{cfg.oltp.sources}"
    text = read_conf_file(cfg.oltp.sources)
    if text is None:
        raise ConfigError(f"source declarations {name} (oltp.sources) do not exist")
    document = yaml.safe_load(text) or {}
    tables = document.get("tables")
    unknown = set(document) - {"tables"}
    if unknown or not isinstance(tables, dict):
        raise ConfigError(f"{name} must hold one key, tables (found: {', '.join(sorted(document)) or 'nothing'})")
    result = {}
    for table, spec in tables.items():
        if table not in PROJECT_TABLES:
            raise ConfigError(f"unknown project table {table} in {name} (known: {', '.join(PROJECT_TABLES)})")
        extra = set(spec or {}) - _FIELDS
        if extra:
            raise ConfigError(f"unknown key tables.{table}.{sorted(extra)[0]} in {name} "
                              f"(known: {', '.join(sorted(_FIELDS))})")
        for required in ("source", "source_columns", "key", "updated_at"):
            if not spec.get(required):
                raise ConfigError(f"missing required value tables.{table}.{required} in {name}")
        mode = spec.get("mode", "full")
        if mode not in ("full", "incremental") or (mode == "incremental" and table in DIMENSION_TABLES):
            raise ConfigError(f"tables.{table}.mode in {name} must be full"
                              + ("" if table in DIMENSION_TABLES else " or incremental")
                              + " (SCD2 dimensions need full snapshots to see deletions)")
        result[table] = SourceTable(
            table, str(spec["source"]), tuple(spec["source_columns"]), tuple(spec["key"]), str(spec["updated_at"]),
            tuple(spec.get("pii") or ()), tuple((str(k), str(v)) for k, v in (spec.get("columns") or {}).items()),
            mode, spec.get("partition_column"))
    missing = [t for t in PROJECT_TABLES if t not in result]
    if missing:
        raise ConfigError(f"{name} does not declare {', '.join(missing)}")
    return result
