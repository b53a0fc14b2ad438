"""On a generated world, every gold metric equals the generator's truth for every business
date: in Asia/Seoul built in one backfill with Spark's generated code, and in UTC delivered in
two runs, the second incremental, with interpreted evaluation (the session's clean run;
test_kill_and_rerun and test_cluster check UTC backfills against that run). A rerun with nothing new writes no gold
version."""
import pytest

from jobs.common.io import current_version, read_table
from schemas.gold import HELPERS, KPI_TABLES
from schemas.ops import GOLD_BUILDS
from tests.conftest import generated_code, test_config
from tests.integration.gold_truth import TRUTH_FILES, mismatches
from tests.integration.world_helpers import generate_world, run_pipeline

GOLD = (*HELPERS, *KPI_TABLES)


@pytest.fixture(scope="module")
def seoul(spark, tmp_path_factory):
    cfg = test_config(tmp_path_factory.mktemp("gold_seoul"), "business.time_zone=Asia/Seoul")
    generate_world(cfg)
    with generated_code(spark):  # as every other environment runs: so both ways meet the truth
        run_pipeline(spark, cfg)
    return cfg


@pytest.mark.parametrize("spec", list(TRUTH_FILES), ids=lambda spec: spec.name)
def test_gold_table_equals_the_truth_in_asia_seoul(spark, seoul, spec):
    assert mismatches(spark, seoul, spec, "Asia/Seoul") == []


@pytest.mark.parametrize("spec", list(TRUTH_FILES), ids=lambda spec: spec.name)
def test_gold_table_built_incrementally_equals_the_truth_in_utc(spark, clean_run, spec):
    assert mismatches(spark, clean_run, spec, "UTC") == []


def test_a_rerun_with_nothing_new_writes_no_gold_version(spark, clean_run):
    versions = {spec.name: current_version(spark, clean_run, spec) for spec in GOLD}
    ledger = read_table(spark, clean_run, GOLD_BUILDS).count()
    run_pipeline(spark, clean_run)  # writes ops.job_runs rows and nothing else
    assert {spec.name: current_version(spark, clean_run, spec) for spec in GOLD} == versions
    assert read_table(spark, clean_run, GOLD_BUILDS).count() == ledger
