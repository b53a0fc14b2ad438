"""On a generated world, every gold metric equals the generator's truth for every business
date, in UTC and in Asia/Seoul."""
import pytest

from jobs.pipeline import STEPS
from tests.conftest import test_config
from tests.integration.gold_truth import TRUTH_FILES, mismatches
from tests.integration.world_helpers import generate_world, run_jobs

ZONES = ("UTC", "Asia/Seoul")


@pytest.fixture(scope="module", params=ZONES)
def built(request, spark, tmp_path_factory):
    zone = request.param
    cfg = test_config(tmp_path_factory.mktemp("gold_" + zone.replace("/", "_")), f"business.time_zone={zone}")
    generate_world(cfg)
    run_jobs(spark, cfg, *STEPS)
    return cfg, zone


@pytest.mark.parametrize("spec", list(TRUTH_FILES), ids=lambda spec: spec.name)
def test_gold_table_equals_the_truth(spark, built, spec):
    cfg, zone = built
    assert mismatches(spark, cfg, spec, zone) == []
