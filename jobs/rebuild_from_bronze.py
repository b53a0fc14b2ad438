"""Drop silver and gold, then build them again from bronze, which is kept as it is.

Some changes cannot be taken incrementally, because rows already written would be wrong:
- a new pseudonym key: silver.events, silver.page_views and silver.dim_users refuse a run
  whose key is not the one their hashes were made with;
- a new business.time_zone: every business date, partition and daily KPI moves;
- a fix to a silver job whose rows already written are wrong.

Without --yes it lists what it would drop, and changes nothing. With --yes it drops the
silver and gold tables, the silver jobs' streaming checkpoints and the ledger rows of
ops.table_builds and ops.gold_builds about those tables, then runs every silver and gold
step of the pipeline over bronze as it is, as the first run of a new warehouse would, and
prints what it built. Bronze, ops.job_runs and ops.quarantine are kept: the silver steps
find the records they quarantined before and add none twice.

Killed while dropping, it leaves a marker that makes every other job refuse to start until
it is run again. Killed while building, run it again, or run the pipeline, which finishes
the build. Stop scheduled pipeline runs while it works. It takes about as long as the
silver and gold steps of a first build of the same data.
"""
from __future__ import annotations

from jobs.common.drop import DERIVED_LAYERS, bronze_exists, drop_derived, plan_drop
from jobs.common.io import InputError
from jobs.common.report import format_inventory, print_block
from jobs.pipeline import STEPS, print_inventory, run_steps

SUMMARY = "drop silver and gold and build them again from bronze (after a new pseudonym key or time zone)"
DATES = None
RUNS_WHILE_DROPPED = True  # it is what finishes an interrupted drop
# the pipeline's steps that build silver and gold, in its order
REBUILD_STEPS = tuple(step for step in STEPS if step.split("_", 1)[0] in DERIVED_LAYERS)


def add_arguments(parser):
    parser.add_argument("--yes", action="store_true",
                        help="drop and rebuild; without it, list what would be dropped and change nothing")


def run(spark, cfg, args, ctx):
    if not bronze_exists(spark, cfg):
        raise InputError(f"no bronze table under {cfg.paths.warehouse}: there is nothing to rebuild from; "
                         "run the pipeline to ingest the landing files first")
    plan = plan_drop(spark, cfg)
    tables = format_inventory(plan.tables, empty="(none)")
    ledgers = ", ".join(f"{rows:,} rows of {name}" for name, rows in plan.ledger_rows.items())
    folders = ", ".join(plan.checkpoints) or "none"
    verb = "Dropping" if args.yes else "Would drop"
    print_block(f"{verb} these silver and gold tables:", f"{tables}\nand {ledgers}; streaming checkpoints: {folders}")
    if not args.yes:
        print("Nothing was changed. Add --yes to drop them and build silver and gold again from bronze.")
        return None
    drop_derived(spark, cfg)
    run_steps(spark, cfg, args, ctx, REBUILD_STEPS)
    print_inventory(spark, cfg)
    return None
