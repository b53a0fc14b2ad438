"""Plain-text tables for what a run prints at its end (to stdout, for people)."""
from __future__ import annotations

import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.util import inheritable_thread_target

from jobs.common.config import JobConfig
from jobs.common.delta_log import latest_version
from jobs.common.io import register, table_path
from schemas.gold import DAILY_KPIS
from schemas.spec import TableSpec


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [all(_is_number(row[i]) for row in rows) and rows for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        parts = [c.rjust(w) if numeric[i] else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_block(title: str, body: str) -> None:
    sys.stdout.write(f"\n{title}\n{body}\n")
    sys.stdout.flush()


def table_inventory(spark: SparkSession, cfg: JobConfig, specs: Sequence[TableSpec],
                    workers: int = 4) -> list[tuple]:
    """(name, Delta version, rows, path) of every declared table that exists. The tables are
    found and registered one by one, then counted `workers` at a time: each count is a small
    Spark job whose time is mostly the driver's (the version's state read, the plan), so they
    overlap."""
    found = []
    for spec in specs:
        path = table_path(cfg, spec)
        if DeltaTable.isDeltaTable(spark, path):
            register(spark, cfg, spec)
            found.append((spec.full_name, latest_version(spark, path), path))

    def count(version: int, path: str) -> int:
        # Delta answers a plain count from its file statistics, without scanning data.
        return spark.read.format("delta").option("versionAsOf", version).load(path).count()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inventory") as pool:
        counts = [pool.submit(inheritable_thread_target(spark)(count), version, path) for _, version, path in found]
    return [(name, version, rows.result(), path) for (name, version, path), rows in zip(found, counts)]


def format_inventory(rows: Sequence[tuple], empty: str = "(no tables yet)") -> str:
    """table_inventory rows as a plain-text table, or `empty` if there are none."""
    return format_table(["table", "version", "rows", "location"], rows) if rows else empty


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


HEADLINE_DAYS = 5


def headline_kpis(spark: SparkSession, cfg: JobConfig, days: int = HEADLINE_DAYS) -> None:
    """Print the last days of gold.daily_kpis, the numbers a dashboard would show first."""
    path = table_path(cfg, DAILY_KPIS)
    if not DeltaTable.isDeltaTable(spark, path):
        return
    columns = ["business_date", "gross_revenue", "net_revenue", "orders", "dau", "wau", "mau", "paying_users",
               "visitor_conversion"]
    rows = (spark.read.format("delta").load(path).orderBy("business_date", ascending=False).limit(days)
            .select(*columns).collect())
    body = format_table(["date", "gross revenue", "net revenue", "orders", "DAU", "WAU", "MAU", "paying users",
                         "visitor conversion"],
                        [(r[0], float(r[1]), float(r[2]), *r[3:8],
                          "" if r[8] is None else f"{r[8]:.2%}") for r in reversed(rows)])
    print_block(f"Headline KPIs ({cfg.business.time_zone} business dates; gold.daily_kpis at {path}):", body)
