"""Run every job in dependency order in one Spark session, then print a summary.

Each step is recorded in ops.job_runs as its own run. A failed step stops the steps
after it, and the pipeline exits non-zero naming it; the next run resumes, because
every step only does the work its inputs still need.
"""
from __future__ import annotations

from jobs.common.cli import execute, load_job
from jobs.common.io import InputError
from jobs.common.report import format_table, print_block, table_inventory
from schemas.tables import ALL_TABLES

SUMMARY = "run every job in dependency order (bronze -> silver -> gold), then print a summary"
DATES = "optional"
RECORD_RUN = False

STEPS = ("bronze_events", "bronze_access_logs", "bronze_oltp", "silver_events", "silver_sessions",
         "silver_page_views", "silver_oltp")


class PipelineError(InputError):
    """A step failed; the steps after it did not run."""


def run(spark, cfg, args, ctx):
    outcomes = []
    for step in STEPS:
        module = load_job(step)
        if hasattr(module, "check_inputs"):
            module.check_inputs(cfg, args)
        outcome = execute(spark, step, module, cfg, args, ctx.arguments)
        outcomes.append(outcome)
        if outcome.error:
            _print_summary(outcomes)
            raise PipelineError(f"step {step} failed: {outcome.error}; the steps after it did not run")
    _print_summary(outcomes)
    rows = table_inventory(spark, cfg, ALL_TABLES)
    print_block(f"Tables under {cfg.paths.warehouse}:", format_table(["table", "version", "rows", "location"], rows))


def _print_summary(outcomes) -> None:
    rows = []
    for outcome in outcomes:
        stats = outcome.stats
        rows.append((outcome.job, "failed" if outcome.error else "ok", len(stats.input_files),
                     sum(stats.rows_read.values()), sum(stats.rows_written().values()),
                     sum(stats.rows_quarantined.values()), round(outcome.seconds, 1)))
    headers = ["job", "status", "files in", "rows in", "rows out", "quarantined", "seconds"]
    print_block("Pipeline summary:", format_table(headers, rows))
