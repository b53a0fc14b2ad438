"""On a generated world, every gold metric equals the generator's truth for every business
date: in Asia/Seoul built in one backfill, and in UTC delivered a day at a time (so one day
at a time gives what a backfill gives: test_kill_and_rerun checks the UTC backfill against
the same truth). A rerun with nothing new writes no gold version."""
import argparse
import shutil
from pathlib import Path

import pytest

from jobs.common.cli import execute, load_job
from jobs.common.io import current_version, read_table
from jobs.pipeline import STEPS
from schemas.gold import HELPERS, KPI_TABLES
from schemas.ops import GOLD_BUILDS
from tests.conftest import test_config
from tests.integration.gold_truth import TRUTH_FILES, mismatches
from tests.integration.world_helpers import SMALL, generate_world, run_jobs
from world.delivery import deliver, delivery_days

GOLD = (*HELPERS, *KPI_TABLES)


def run_pipeline_steps(spark, cfg, start=None, end=None) -> None:
    args = argparse.Namespace(start=start, end=end, rebuild=False)
    for step in STEPS:
        outcome = execute(spark, step, load_job(step), cfg, args, "")
        assert outcome.error is None, (step, outcome.error)


@pytest.fixture(scope="module")
def seoul(spark, tmp_path_factory):
    cfg = test_config(tmp_path_factory.mktemp("gold_seoul"), "business.time_zone=Asia/Seoul")
    generate_world(cfg)
    run_jobs(spark, cfg, *STEPS)
    return cfg


@pytest.fixture(scope="module")
def daily(spark, tmp_path_factory):
    """The UTC world delivered day by day: the first two days one pipeline run each, then the
    other days and the late events after them in a third."""
    root = tmp_path_factory.mktemp("gold_daily")
    cfg, source = test_config(root / "daily"), test_config(root / "source")
    generate_world(source)
    days = delivery_days(Path(source.paths.landing))
    assert len(days) > SMALL.days  # late events keep arriving after the world's last day
    for batch in (days[:1], days[1:2], days[2:]):
        for day in batch:
            deliver(Path(source.paths.landing), Path(cfg.paths.landing), day)
        run_pipeline_steps(spark, cfg, batch[0], batch[-1])
    shutil.copytree(source.paths.truth, cfg.paths.truth)
    return cfg


@pytest.mark.parametrize("spec", list(TRUTH_FILES), ids=lambda spec: spec.name)
def test_gold_table_equals_the_truth_in_asia_seoul(spark, seoul, spec):
    assert mismatches(spark, seoul, spec, "Asia/Seoul") == []


@pytest.mark.parametrize("spec", list(TRUTH_FILES), ids=lambda spec: spec.name)
def test_gold_table_built_day_by_day_equals_the_truth_in_utc(spark, daily, spec):
    assert mismatches(spark, daily, spec, "UTC") == []


def test_a_rerun_with_nothing_new_writes_no_gold_version(spark, daily):
    versions = {spec.name: current_version(spark, daily, spec) for spec in GOLD}
    ledger = read_table(spark, daily, GOLD_BUILDS).count()
    run_pipeline_steps(spark, daily)
    assert {spec.name: current_version(spark, daily, spec) for spec in GOLD} == versions
    assert read_table(spark, daily, GOLD_BUILDS).count() == ledger
