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


def pipeline_process(root, log):
    args = [sys.executable, "-m", "jobs", "--env", "test"]
    for item in paths_under(root):
        args += ["--conf", item]
    return subprocess.Popen([*args, "pipeline"], cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def tail(path, lines=40) -> str:
    with open(path, errors="replace") as text:
        return "".join(text.readlines()[-lines:])


def test_pipeline_killed_at_random_points_then_rerun_equals_one_clean_run(spark, clean_run, tmp_path):
    killed = test_config(tmp_path / "killed")
    generate_world(killed)
    rng = random.Random(20241124)
    kills = []  # seconds into each killed run; with the runs' output they say where a failure came from
    with open(tmp_path / "pipeline.log", "w") as log:
        print(f"the runs' output: {log.name}")
        for _ in range(3):
            process = pipeline_process(tmp_path / "killed", log)
            after = rng.uniform(8, 60)  # from ingestion to the gold steps
            time.sleep(after)
            if process.poll() is not None:
                break
            os.killpg(process.pid, signal.SIGKILL)  # the driver and its JVM, as a machine crash would
            process.wait()
            kills.append(round(after, 1))
            log.write(f"\n=== killed {after:.1f} s into this run ===\n")
            log.flush()
        print(f"killed after {kills} s")
        final = pipeline_process(tmp_path / "killed", log)
        try:
            code = final.wait(timeout=600)
        except subprocess.TimeoutExpired:
            os.killpg(final.pid, signal.SIGKILL)
            final.wait()
            pytest.fail(f"the rerun after the kills ran over 600 s; the runs' output:\n{tail(log.name)}")
    assert code == 0, f"the rerun after the kills exited with {code}; the runs' output:\n{tail(log.name)}"
    assert kills
    assert_same_tables(spark, killed, clean_run)
