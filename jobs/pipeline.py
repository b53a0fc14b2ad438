"""Run every job in dependency order in one Spark session, then print a summary.

With --date D or --start D1 --end D2, bronze_oltp (re)takes those snapshot dates, and gold
builds any date of the range its ledger lacks; with --rebuild as well, gold recomputes
every date of the range. Files are always ingested when new, whatever their dates; gold
recomputes the dates new or late data touched, plus the rolling windows that include them.

Each step is recorded in ops.job_runs as its own run. A failed step stops the steps that
depend on it (the others still run), and the pipeline exits non-zero naming it; the next
run resumes, because every step only does the work its inputs still need.

With --steps, only the named steps run, still in dependency order; the steps they depend on
are taken as done (e.g. `--steps silver_oltp,gold_customers` after a fix to those two).
"""
from __future__ import annotations

import argparse

from jobs.common.cli import Outcome, execute, load_job
from jobs.common.gold import add_rebuild_option
from jobs.common.io import InputError
from jobs.common.report import format_inventory, format_table, headline_kpis, print_block, table_inventory
from jobs.common.runs import RunStats
from schemas.tables import ALL_TABLES

SUMMARY = "run every job in dependency order (bronze -> silver -> gold), then print a summary"
DATES = "optional"
RECORD_RUN = False

# step -> the steps whose output it reads, in an order that runs each after its inputs
DEPENDS: dict[str, tuple[str, ...]] = {
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
STEPS = tuple(DEPENDS)


class PipelineError(InputError):
    """A step failed; the steps that depend on it did not run."""


def add_arguments(parser):
    add_rebuild_option(parser)
    parser.add_argument("--steps", type=step_list, default=STEPS, metavar="STEP[,STEP...]",
                        help="run only these steps (in dependency order, whatever order they are given in); "
                             "the steps they depend on are taken as done, and the closing table inventory is "
                             "left out. Default: every step")


def step_list(text: str) -> tuple[str, ...]:
    names = {name.strip() for name in text.split(",") if name.strip()}
    unknown = sorted(names - set(STEPS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown step {', '.join(unknown) or repr(text)}; the steps are "
                                         f"{', '.join(STEPS)}")
    return tuple(step for step in STEPS if step in names)


def run(spark, cfg, args, ctx):
    steps = getattr(args, "steps", STEPS)
    run_steps(spark, cfg, args, ctx, steps)
    if steps == STEPS:  # a partial run: its summary says what it did; the whole inventory would not
        print_inventory(spark, cfg)


def run_steps(spark, cfg, args, ctx, steps: tuple[str, ...]) -> None:
    """Run `steps` in order, each recorded as its own run, then print their summary; raise
    PipelineError naming the first that failed."""
    outcomes: dict[str, Outcome] = {}
    for number, step in enumerate(steps, start=1):
        blocked = [d for d in DEPENDS[step] if d in outcomes and outcomes[d].error]
        if blocked:
            outcomes[step] = Outcome(step, RunStats(), 0.0, f"skipped: {', '.join(blocked)} did not finish")
            continue
        print(f"[{number}/{len(steps)}] {step} ...", flush=True)
        module = load_job(step)
        if hasattr(module, "check_inputs"):
            module.check_inputs(cfg, args)
        outcomes[step] = execute(spark, step, module, cfg, args, ctx.arguments)
    _print_summary(list(outcomes.values()))
    failed = [o.job for o in outcomes.values() if o.error and not o.error.startswith("skipped")]
    if failed:
        first = outcomes[failed[0]]
        raise PipelineError(f"step {first.job} failed: {first.error}" +
                            (f" (also failed: {', '.join(failed[1:])})" if failed[1:] else "") +
                            "; the steps that depend on it did not run; fix the cause and rerun: finished work "
                            "is not repeated")


def print_inventory(spark, cfg) -> None:
    """Every table built so far, and the newest daily KPIs."""
    print_block(f"Tables under {cfg.paths.warehouse}:", format_inventory(table_inventory(spark, cfg, ALL_TABLES)))
    headline_kpis(spark, cfg)


def _print_summary(outcomes: list[Outcome]) -> None:
    rows = []
    for outcome in outcomes:
        stats = outcome.stats
        status = "ok" if not outcome.error else ("skipped" if outcome.error.startswith("skipped") else "failed")
        rows.append((outcome.job, status, len(stats.input_files), sum(stats.rows_read.values()),
                     sum(stats.rows_written().values()), sum(stats.rows_quarantined.values()),
                     round(outcome.seconds, 1)))
    headers = ["job", "status", "files in", "rows in", "rows out", "quarantined", "seconds"]
    print_block("Pipeline summary:", format_table(headers, rows))
