"""A pipeline killed with SIGKILL at random points and rerun until it completes leaves
the same bronze, silver and gold tables as the session's clean run, which was delivered day
by day and whose gold equals the truth in UTC (test_gold_world)."""
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from jobs.common.config import PROJECT_ROOT, paths_under
from tests.conftest import test_config
from tests.integration.compare import assert_same_tables
from tests.integration.world_helpers import generate_world

pytestmark = pytest.mark.slow


def pipeline_process(root):
    args = [sys.executable, "-m", "jobs", "--env", "test"]
    for item in paths_under(root):
        args += ["--conf", item]
    return subprocess.Popen([*args, "pipeline"], cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def test_pipeline_killed_at_random_points_then_rerun_equals_one_clean_run(spark, clean_run, tmp_path):
    killed = test_config(tmp_path / "killed")
    generate_world(killed)
    rng = random.Random(20241124)
    kills = 0
    for _ in range(3):
        process = pipeline_process(tmp_path / "killed")
        time.sleep(rng.uniform(8, 60))  # from ingestion to the gold steps
        if process.poll() is not None:
            break
        os.killpg(process.pid, signal.SIGKILL)  # the driver and its JVM, as a machine crash would
        process.wait()
        kills += 1
    final = pipeline_process(tmp_path / "killed")
    assert final.wait(timeout=600) == 0
    assert kills >= 1
    assert_same_tables(spark, killed, clean_run)
