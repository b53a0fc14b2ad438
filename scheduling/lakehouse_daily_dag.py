"""Airflow DAG: the lakehouse pipeline once a day, one task per job, through spark-submit.sh.

Copy this file into Airflow's dags/ folder and set the Airflow Variable `lakehouse_home`
to the project checkout on the workers (the default is /opt/lakehouse), and
`lakehouse_submit_args` to what the cluster needs (e.g. "--master yarn --env cluster").
Each task runs one job for the DAG run's date ({{ ds }}); the tasks mirror the
dependencies of `python -m jobs pipeline` (jobs/pipeline.py DEPENDS, which a test checks
this file against), so a failed job stops only its dependents and is retried alone.
Catch-up runs are backfills: each date's gold is built if missing and late data is folded
into whatever dates it touches.
"""
from __future__ import annotations

import datetime as dt

from airflow import DAG
from airflow.operators.bash import BashOperator

# job -> the jobs whose output it reads (the same graph as jobs/pipeline.py)
DEPENDS = {
    "bronze_events": (),
    "bronze_access_logs": (),
    "bronze_marketing": (),
    "bronze_oltp": (),
    "silver_events": ("bronze_events",),
    "silver_sessions": ("silver_events",),
    "silver_page_views": ("bronze_access_logs",),
    "silver_ad_spend": ("bronze_marketing",),
    "silver_oltp": ("bronze_oltp",),
    "gold_user_activity": ("silver_sessions",),
    "gold_customers": ("silver_sessions", "silver_oltp"),
    "gold_daily_kpis": ("gold_user_activity", "gold_customers", "silver_oltp"),
    "gold_funnel": ("silver_sessions",),
    "gold_retention": ("gold_user_activity", "silver_oltp"),
    "gold_marketing": ("silver_ad_spend", "gold_customers", "silver_oltp"),
    "gold_experiments": ("silver_events",),
    "gold_web_traffic": ("silver_page_views",),
}
# jobs that take the run's date: bronze_oltp (re)takes that night's dump, gold fills that date
DATED = {"bronze_oltp"} | {job for job in DEPENDS if job.startswith("gold_")}

HOME = "{{ var.value.get('lakehouse_home', '/opt/lakehouse') }}"
SUBMIT_ARGS = "{{ var.value.get('lakehouse_submit_args', '') }}"

with DAG(
    dag_id="lakehouse_daily",
    description="landing -> bronze -> silver -> gold, one business date per run",
    schedule="30 2 * * *",  # after the nightly dumps land
    start_date=dt.datetime(2024, 3, 1),
    catchup=True,
    max_active_runs=1,  # runs of different dates share tables: one at a time
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=10)},
    tags=["lakehouse"],
) as dag:
    tasks = {}
    for job in DEPENDS:
        date = " --date {{ ds }}" if job in DATED else ""
        tasks[job] = BashOperator(task_id=job, bash_command=f"cd {HOME} && ./spark-submit.sh {SUBMIT_ARGS} {job}{date}")
    for job, upstream in DEPENDS.items():
        for parent in upstream:
            tasks[parent] >> tasks[job]
