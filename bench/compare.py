"""The daily KPIs of each engine, in one shape, and the differences between two of them.

The pipeline's come from what it wrote (gold.daily_kpis, gold.funnel_daily, ops.quarantine),
read with the deltalake package, not with Spark. A date one engine lacks counts as zeros (the
pipeline's gold calendar has a row for every date, with zeros where nothing happened)."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from bench.kpis import ACTIVITY, FUNNEL
from bench.money import MONEY


class Disagreement(AssertionError):
    pass


def _table(path: Path, columns: list[str], filters=None) -> list[dict]:
    from deltalake import DeltaTable
    return DeltaTable(str(path)).to_pyarrow_table(columns=columns, filters=filters).to_pylist()


def pipeline_kpis(warehouse: Path) -> dict:
    daily = _table(warehouse / "gold" / "daily_kpis",
                   ["business_date", *ACTIVITY, "orders", "gross_revenue", "refunds", "paying_users"])
    funnel = _table(warehouse / "gold" / "funnel_daily", ["business_date", *FUNNEL])
    quarantine = Counter(r["reason"] for r in _table(warehouse / "ops" / "quarantine", ["reason"],
                                                     filters=[("source", "=", "events")]))
    return {
        "activity": {str(r["business_date"]): {k: r[k] for k in ACTIVITY} for r in daily},
        "funnel": {str(r["business_date"]): {k: r[k] for k in FUNNEL} for r in funnel},
        "money": {str(r["business_date"]): {"orders": r["orders"], "gross_cents": int(r["gross_revenue"] * 100),
                                            "refund_cents": int(r["refunds"] * 100), "paying_users": r["paying_users"]}
                  for r in daily},
        "quarantine": dict(quarantine),
    }


def reference_kpis(path: Path) -> dict:
    raw = json.loads(path.read_text())
    return {
        "activity": {str(r["business_date"]): {k: r[k] for k in ACTIVITY} for r in raw["activity"]},
        "funnel": {str(r["business_date"]): {k: r[k] for k in FUNNEL} for r in raw["funnel"]},
        "money": {str(r["business_date"]): {k: r[k] for k in MONEY} for r in raw["money"]},
        "quarantine": {r["reason"]: r["lines"] for r in raw["quarantine"]},
    }


def compare(mine: dict, theirs: dict) -> list[str]:
    """Every (table, date, metric) whose values differ, as readable lines; empty when equal."""
    problems = []
    for table, metrics in (("activity", ACTIVITY), ("funnel", FUNNEL), ("money", MONEY)):
        for date in sorted(set(mine.get(table, {})) | set(theirs.get(table, {}))):
            a, b = mine.get(table, {}).get(date, {}), theirs.get(table, {}).get(date, {})
            for metric in metrics:
                if a.get(metric, 0) != b.get(metric, 0):
                    problems.append(f"{table} {date} {metric}: pipeline {a.get(metric, 0)}, reference {b.get(metric, 0)}")
    for reason in sorted(set(mine["quarantine"]) | set(theirs["quarantine"])):
        a, b = mine["quarantine"].get(reason, 0), theirs["quarantine"].get(reason, 0)
        if a != b:
            problems.append(f"quarantined event lines, {reason}: pipeline {a}, reference {b}")
    return problems
