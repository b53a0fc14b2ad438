"""Compare gold tables with the generator's truth: exact for counts and money, 1e-9 relative
for ratios, both null where a denominator is zero."""
from __future__ import annotations

import decimal
import json
import math

from jobs.common.io import read_table
from schemas import gold
from tests.integration.world_helpers import truth_csv

RELATIVE = 1e-9
# gold table -> (truth file, key columns)
TRUTH_FILES = {
    gold.DAILY_KPIS: ("daily_kpis.csv", ("business_date",)),
    gold.FUNNEL_DAILY: ("funnel_daily.csv", ("business_date",)),
    gold.RETENTION_COHORTS: ("retention_cohorts.csv", ("cohort_week", "weeks_since_signup")),
    gold.MARKETING_DAILY: ("marketing_daily.csv", ("business_date", "channel")),
    gold.EXPERIMENT_RESULTS: ("experiment_results.csv", ("business_date", "experiment_id", "variant")),
    gold.WEB_TRAFFIC_DAILY: ("web_traffic_daily.csv", ("business_date",)),
}


def zone_folder(zone: str) -> str:
    return zone.replace("/", "_")


def gold_rows(spark, cfg, spec) -> dict[tuple, dict]:
    keys = TRUTH_FILES[spec][1]
    rows = {}
    for row in read_table(spark, cfg, spec).collect():
        record = row.asDict(recursive=True)
        key = tuple(str(record[k]) for k in keys)
        assert key not in rows, f"{spec.full_name}: key {key} appears twice"
        rows[key] = record
    return rows


def mismatches(spark, cfg, spec, zone: str, limit: int = 10) -> list[str]:
    """Every difference between the gold table and the truth (at most `limit`)."""
    name, keys = TRUTH_FILES[spec]
    truth = truth_csv(cfg, f"{zone_folder(zone)}/{name}")
    actual = gold_rows(spark, cfg, spec)
    problems = []
    if len(actual) != len(truth):
        problems.append(f"{spec.full_name}: {len(actual)} rows, truth has {len(truth)}")
    for expected in truth:
        key = tuple(expected[k] for k in keys)
        row = actual.get(key)
        if row is None:
            problems.append(f"{spec.full_name} {key}: missing")
            continue
        for column, text in expected.items():
            if column in keys:
                continue
            problem = _compare(column, text, row)
            if problem:
                problems.append(f"{spec.full_name} {key} {problem}")
    return problems[:limit]


def _compare(column: str, text: str, row: dict) -> str | None:
    if column.endswith("_cents"):
        value = row[column.removesuffix("_cents")]
        cents = int((value * 100).to_integral_value()) if isinstance(value, decimal.Decimal) else None
        return None if cents == int(text) else f"{column}: {cents} != {text}"
    value = row[column]
    if column == "top_pages":
        pages = [[p["path"], p["page_views"]] for p in value]
        return None if pages == json.loads(text) else f"top_pages: {pages} != {text}"
    if column == "srm_flag":
        return None if value == (text == "true") else f"srm_flag: {value} != {text}"
    if text == "":
        return None if value is None else f"{column}: {value} != null"
    if value is None:
        return f"{column}: null != {text}"
    if "." in text or "e" in text:
        expected = float(text)
        ok = math.isclose(float(value), expected, rel_tol=RELATIVE, abs_tol=0 if expected else 1e-12)
        return None if ok else f"{column}: {value!r} != {text}"
    return None if int(value) == int(text) else f"{column}: {value} != {text}"
