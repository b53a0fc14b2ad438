"""Print every table the project has built: catalog name, Delta version, rows and location.

It also registers them in the session catalog as <layer>.<table>.
"""
from jobs.common.report import format_inventory, print_block, table_inventory
from schemas.tables import ALL_TABLES

SUMMARY = "list the built tables with their Delta version, row count and location"
DATES = None
RECORD_RUN = False
RUNS_WHILE_DROPPED = True  # it only lists what is there


def run(spark, cfg, args, ctx):
    print_block(f"Tables under {cfg.paths.warehouse}:", format_inventory(table_inventory(spark, cfg, ALL_TABLES)))
