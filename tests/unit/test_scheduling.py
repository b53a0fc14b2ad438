"""The Airflow DAG and the cron line run what the pipeline runs, in the same order.

Airflow itself is not installed here (it would double the set-up time), so the DAG file is
parsed, not loaded: its dependency graph must equal jobs/pipeline.py's, every job must have
a task, and every task must go through spark-submit.sh."""
import ast
import re

from jobs.common.config import PROJECT_ROOT
from jobs.common.cli import JOBS
from jobs.pipeline import DEPENDS, STEPS

DAG_FILE = PROJECT_ROOT / "scheduling" / "lakehouse_daily_dag.py"


def dag_constant(name: str):
    tree = ast.parse(DAG_FILE.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not found in {DAG_FILE}")


def test_dag_dependencies_equal_the_pipeline_graph():
    assert dag_constant("DEPENDS") == DEPENDS


def test_pipeline_steps_run_after_everything_they_read():
    position = {step: n for n, step in enumerate(STEPS)}
    for step, upstream in DEPENDS.items():
        assert step in JOBS
        assert all(position[parent] < position[step] for parent in upstream), step


def test_dag_tasks_submit_each_job_through_the_script_with_the_run_date():
    source = DAG_FILE.read_text()
    compile(source, str(DAG_FILE), "exec")
    assert "./spark-submit.sh" in source and "{{ ds }}" in source
    assert re.search(r"tasks\[parent\]\s*>>\s*tasks\[job\]", source)


def test_cron_line_runs_the_pipeline_for_yesterday():
    lines = [line for line in (PROJECT_ROOT / "scheduling" / "crontab").read_text().splitlines()
             if line and not line.startswith("#")]
    assert len(lines) == 1
    fields = lines[0].split(None, 5)
    assert fields[:5] == ["30", "2", "*", "*", "*"]
    assert "./spark-submit.sh pipeline --date" in fields[5] and "yesterday" in fields[5]
