"""Shared by the integration tests that run jobs on a generated world."""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
from pathlib import Path

from jobs.common.cli import execute, load_job
from jobs.common.io import table_path
from jobs.pipeline import STEPS
from world.model import Params
from world.writer import generate

# seed 12: a world small enough for seconds, with a deleted user and profile changes in it
SMALL = Params(seed=12, start_date=dt.date(2024, 3, 1), days=4, users=80, products=20, dirt_rate=0.02)


def generate_world(cfg, params: Params = SMALL) -> dict:
    return generate(params, Path(cfg.paths.landing), Path(cfg.paths.truth))


def run_jobs(spark, cfg, *names: str, start: dt.date | None = None, end: dt.date | None = None) -> list:
    """Run the named jobs in order (over --start/--end when given); each must succeed."""
    args = argparse.Namespace(start=start, end=end)
    outcomes = []
    for name in names:
        outcome = execute(spark, name, load_job(name), cfg, args, "")
        assert outcome.error is None, (name, outcome.error)
        outcomes.append(outcome)
    return outcomes


def run_pipeline(spark, cfg, start: dt.date | None = None, end: dt.date | None = None) -> list:
    """Every pipeline step in order, as `python -m jobs pipeline --start --end` runs them."""
    return run_jobs(spark, cfg, *STEPS, start=start, end=end)


def truth_csv(cfg, name: str) -> list[dict]:
    with (Path(cfg.paths.truth) / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def truth_bad_records(cfg, source: str) -> list[dict]:
    lines = (Path(cfg.paths.truth) / "bad_records.jsonl").read_text(encoding="utf-8").splitlines()
    return [record for record in map(json.loads, lines) if record["source"] == source]


def file_statistics(cfg, spec) -> list[dict]:
    """The statistics Delta keeps of each data file of the table, in commit order (from the
    `add` actions of its log: numRecords, minValues, maxValues, nullCount)."""
    log = Path(table_path(cfg, spec)) / "_delta_log"
    return [json.loads(action["add"]["stats"]) for commit in sorted(log.glob("*.json"))
            for action in map(json.loads, commit.read_text().splitlines()) if "add" in action]


def relative_to_landing(uri: str) -> str:
    return uri.split("/landing/", 1)[1]
