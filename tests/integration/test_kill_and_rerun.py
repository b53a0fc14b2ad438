"""A pipeline killed with SIGKILL inside each kind of step (the exactly-once ingestion of
landing files, a streaming MERGE into silver, silver_oltp's MERGEs running at once, a gold
rebuild and its ledger), rerun after every kill and finally run to the end, leaves the same
bronze, silver and gold tables as the session's clean run, which was delivered day by day and
whose gold equals the truth in UTC (test_gold_world)."""
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from jobs.common.config import PROJECT_ROOT, paths_under
from jobs.pipeline import STEPS
from tests.conftest import test_config
from tests.integration.compare import assert_same_tables
from tests.integration.world_helpers import generate_world

pytestmark = pytest.mark.slow

# (step, the longest wait in seconds after the pipeline announces it): each killed run is
# killed a random time into that step, so a run dies inside it rather than at a fixed moment.
# Steps are announced before they start, so a cold JVM's first step needs the longest wait.
KILL_STEPS = (("bronze_events", 8.0), ("silver_events", 4.0), ("silver_oltp", 6.0), ("gold_daily_kpis", 3.0))


def pipeline_process(root, log):
    args = [sys.executable, "-m", "jobs", "--env", "test"]
    for item in paths_under(root):
        args += ["--conf", item]
    return subprocess.Popen([*args, "pipeline"], cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def announcement(step: str) -> str:
    return f"[{STEPS.index(step) + 1}/{len(STEPS)}] {step} ..."


def wait_for(process, log_path, text: str, offset: int, timeout: float = 300) -> bool:
    """Whether the run whose output starts at `offset` of the log announced `text` while running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        with open(log_path, "rb") as handle:
            handle.seek(offset)
            if text.encode() in handle.read():
                return True
        time.sleep(0.1)
    return False


def tail(path, lines=40) -> str:
    with open(path, errors="replace") as text:
        return "".join(text.readlines()[-lines:])


def test_pipeline_killed_inside_each_kind_of_step_then_rerun_equals_one_clean_run(spark, clean_run, tmp_path):
    killed = test_config(tmp_path / "killed")
    generate_world(killed)
    rng = random.Random(20241124)
    kills = []  # (step, seconds into it): with the runs' output they say where a failure came from
    log_path = tmp_path / "pipeline.log"
    print(f"the runs' output: {log_path}")
    started = []  # each in its own process group: a failure, a timeout or Ctrl-C here must not leave one running
    try:
        with open(log_path, "wb") as log:
            for step, longest in KILL_STEPS:
                offset = log_path.stat().st_size
                process = pipeline_process(tmp_path / "killed", log)
                started.append(process)
                announced = wait_for(process, log_path, announcement(step), offset)
                after = rng.uniform(0.5, longest)
                time.sleep(after)
                assert announced and process.poll() is None, \
                    f"the run ended before it was killed in {step}:\n{tail(log_path)}"
                os.killpg(process.pid, signal.SIGKILL)  # the driver and its JVM, as a machine crash would
                process.wait()
                kills.append((step, round(after, 1)))
                log.write(f"\n=== killed {after:.1f} s into {step} ===\n".encode())
                log.flush()
            print(f"killed in {kills}")
            final = pipeline_process(tmp_path / "killed", log)
            started.append(final)
            try:
                code = final.wait(timeout=600)
            except subprocess.TimeoutExpired:
                pytest.fail(f"the rerun after the kills ran over 600 s; the runs' output:\n{tail(log_path)}")
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    assert code == 0, f"the rerun after the kills exited with {code}; the runs' output:\n{tail(log_path)}"
    assert_same_tables(spark, killed, clean_run)
