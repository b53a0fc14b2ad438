"""spark-submit.sh runs a job from the packaged zip, with the pinned jars, on local[*]."""
import os
import subprocess

import pytest
from deltalake import DeltaTable as RustDeltaTable

from jobs.common.class_archive import ARCHIVE
from jobs.common.config import PROJECT_ROOT

pytestmark = pytest.mark.slow


def test_spark_submit_help_explains_usage():
    result = subprocess.run(["./spark-submit.sh", "--help"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0
    assert "usage: ./spark-submit.sh [--master URL]" in result.stdout


def test_spark_submit_runs_a_job_and_writes_a_delta_table(tmp_path):
    log_file = tmp_path / "landing" / "access_logs" / "x.log"
    log_file.parent.mkdir(parents=True)
    log_file.write_text('127.0.0.1 - - [01/Aug/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 7\n' * 4)
    paths = [f"--conf=paths.{p}={tmp_path / p}" for p in ("landing", "warehouse", "checkpoints", "event_log")]
    args = ["./spark-submit.sh", "--env", "test"]
    for item in paths:
        args += ["--conf", item.split("=", 1)[1]]
    # The launcher prints the driver's java command: the environment's JVM options are on it,
    # and the class archive that make setup built.
    env = {**os.environ, "SPARK_PRINT_LAUNCH_COMMAND": "1"}
    result = subprocess.run([*args, "bronze_access_logs"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    command = next(line for line in result.stderr.splitlines() if line.startswith("Spark Command:"))
    assert "-Djdk.nio.maxCachedBufferSize=262144 -XX:+UseParallelGC" in command
    assert f"-XX:+UseParallelGC -XX:SharedArchiveFile={ARCHIVE} " in command  # a client-mode driver maps it
    table = RustDeltaTable(str(tmp_path / "warehouse" / "bronze" / "access_logs_raw"))
    assert table.to_pyarrow_table().num_rows == 4


def test_spark_submit_bad_configuration_fails_before_spark_starts():
    result = subprocess.run(["./spark-submit.sh", "--conf", "paths.nope=1", "tables"], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == ("error: unknown configuration key paths.nope in --conf paths.nope=1 "
                                     "(known here: checkpoints, event_log, landing, truth, warehouse)")
