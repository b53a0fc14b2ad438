"""The command line, as a user meets it: help, and one-line errors that write nothing."""
import subprocess
import sys

import pytest
from py4j.protocol import Py4JJavaError

from jobs.common.cli import JOBS, one_line
from jobs.common.config import PROJECT_ROOT


def run_cli(*args, cwd=PROJECT_ROOT):
    return subprocess.run([sys.executable, "-m", "jobs", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_top_level_help_lists_every_job():
    result = run_cli("--help")
    assert result.returncode == 0
    for name in JOBS:
        assert f"\n  {name} " in result.stdout


def test_every_job_has_help():
    for name in JOBS:
        result = run_cli(name, "--help")
        assert result.returncode == 0, (name, result.stderr)
        assert f"python -m jobs {name}" in result.stdout


def test_malformed_date_is_one_line_error(tmp_path):
    result = run_cli("--conf", f"paths.warehouse={tmp_path}/wh", "pipeline", "--date", "2024-02-30")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "malformed date '2024-02-30'" in result.stderr
    assert not (tmp_path / "wh").exists()


def test_a_setting_out_of_its_range_is_one_line_error_before_spark_starts(tmp_path):
    result = run_cli("--conf", f"paths.warehouse={tmp_path}/wh", "--conf", "oltp.parallel_writes=0", "silver_oltp")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["error: configuration value oltp.parallel_writes must be 1 or more, got 0"]
    assert not (tmp_path / "wh").exists()


def test_generator_refuses_a_world_of_no_days_before_writing(tmp_path):
    result = run_cli("--conf", f"paths.landing={tmp_path}/landing", "generate", "--days", "0")
    assert result.returncode == 2
    assert "argument --days: '0': must be 1 or more" in result.stderr
    result = run_cli("--conf", f"paths.landing={tmp_path}/landing", "generate", "--dirt-rate", "1.5")
    assert result.returncode == 2
    assert "argument --dirt-rate: '1.5': must be between 0 and 1" in result.stderr
    assert not (tmp_path / "landing").exists()


def test_wrong_configuration_key_is_one_line_error(tmp_path):
    result = run_cli("--conf", f"paths.warehouse={tmp_path}/wh", "--conf", "spark.shufle_partitions=4", "pipeline")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: unknown configuration key spark.shufle_partitions in --conf spark.shufle_partitions=4 "
        "(known here: app_name_prefix, driver_memory, event_log_enabled, log_level, master, settings, "
        "shuffle_partitions, ui_enabled)"]
    assert not (tmp_path / "wh").exists()


def test_missing_input_directory_is_one_line_error_and_writes_nothing(tmp_path):
    result = run_cli("--conf", f"paths.landing={tmp_path}/nowhere", "--conf", f"paths.warehouse={tmp_path}/wh",
                     "bronze_events")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: input directory for events does not exist: {tmp_path}/nowhere/events"]
    assert not (tmp_path / "wh").exists()


def test_unknown_job_is_one_line_error():
    result = run_cli("no_such_job")
    assert result.returncode == 2
    assert "unknown job 'no_such_job'" in result.stderr


def test_start_after_end_is_rejected():
    result = run_cli("pipeline", "--start", "2024-03-05", "--end", "2024-03-01")
    assert result.returncode == 2
    assert "--start 2024-03-05 is after --end 2024-03-01" in result.stderr


def test_rebuild_without_dates_is_rejected_before_anything_runs():
    result = run_cli("gold_daily_kpis", "--rebuild")
    assert result.returncode == 2
    assert "--rebuild needs the dates to rebuild" in result.stderr


def test_pipeline_steps_run_in_dependency_order_and_an_unknown_step_is_one_line_error(tmp_path):
    from jobs.pipeline import step_list
    assert step_list("gold_customers, silver_oltp") == ("silver_oltp", "gold_customers")
    result = run_cli("--conf", f"paths.warehouse={tmp_path}/wh", "pipeline", "--steps", "silver_oltp,gold_kpis")
    assert result.returncode == 2
    assert "unknown step gold_kpis; the steps are bronze_events" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "wh").exists()


def test_an_error_raised_in_the_jvm_is_named_by_its_java_exception_and_message(spark):
    """py4j's own text for a JVM exception with no cause is "An error occurred while calling
    <object>.<method>."; the line that says what went wrong comes after it, behind a colon."""
    with pytest.raises(Py4JJavaError) as raised:
        spark.sparkContext._jvm.java.lang.Class.forName("no.such.Driver")  # one PySpark does not convert
    assert one_line(raised.value) == "ClassNotFoundException: no.such.Driver"
