"""Generate the sample world: a deterministic, dirty e-commerce company with known true KPIs.

Writes into paths.landing what the company's systems deliver (hourly event JSON lines,
access logs, nightly OLTP dumps, ad-spend CSVs), dirt included at --dirt-rate, and into
paths.truth the clean world's true gold metrics (UTC and Asia/Seoul business days), its
event ids and user history, and every injected bad record with the reason it must be
rejected. The same seed and parameters give byte-identical files; if the same world is
already there, nothing is written. Defaults come from the `world` section of conf/.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from jobs.common.cli import parse_date, positive_int, share
from jobs.common.config import resolve_path
from jobs.common.session import build_session
from world.model import Params
from world.shards import generate_sharded
from world.writer import generate

SUMMARY = "write the sample world (landing files + true KPIs) for a seed, start date, days and scale"
DATES = None
NEEDS_SPARK = False
log = logging.getLogger(__name__)


def add_arguments(parser) -> None:
    parser.add_argument("--seed", type=int, help="random seed (default: world.seed)")
    parser.add_argument("--start-date", type=parse_date, help="first day, YYYY-MM-DD (default: world.start_date)")
    parser.add_argument("--days", type=positive_int, help="number of days (default: world.days)")
    parser.add_argument("--users", type=positive_int, help="registered users; sets the scale (default: world.users)")
    parser.add_argument("--products", type=positive_int, help="products in the catalogue (default: world.products)")
    parser.add_argument("--dirt-rate", type=share, help="base rate of injected dirt (default: world.dirt_rate)")
    parser.add_argument("--dump-format", choices=("csv", "parquet", "both"), default="csv",
                        help="format of the nightly OLTP dumps (default: csv)")
    parser.add_argument("--force", action="store_true", help="replace a different world already in landing")
    parser.add_argument("--shards", type=positive_int, default=1,
                        help="split the users into this many independent shards generated in parallel as "
                             "Spark tasks, for benchmark-sized worlds (default: 1, no Spark); landing must "
                             "be empty, and the truth is kept per shard (see world/shards.py)")


def params_from(cfg, args) -> Params:
    world = cfg.world
    return Params(
        seed=args.seed if args.seed is not None else world.seed,
        start_date=args.start_date or world.start_date,
        days=args.days or world.days,
        users=args.users or world.users,
        products=args.products or world.products,
        dirt_rate=args.dirt_rate if args.dirt_rate is not None else world.dirt_rate,
    )


def run(spark, cfg, args, ctx):
    params = params_from(cfg, args)
    formats = ("csv", "parquet") if args.dump_format == "both" else (args.dump_format,)
    landing, truth_dir = Path(resolve_path(cfg.paths.landing)), Path(resolve_path(cfg.paths.truth))
    began = time.monotonic()
    log.info("generating world %s into %s", params, landing)
    if args.shards > 1:
        manifest = generate_in_parallel(cfg, params, args.shards, landing, truth_dir, formats)
    else:
        manifest = generate(params, landing, truth_dir, formats, force=args.force)
    counts = manifest["counts"]
    log.info("world ready in %.1fs: %s clean events, %s orders, %s users, %s bad records, %s files (truth in %s)",
             time.monotonic() - began, counts["clean_events"], counts["orders"], counts["users"],
             counts["bad_records"], counts["files"], truth_dir)


def generate_in_parallel(cfg, params, shards, landing, truth_dir, formats) -> dict:
    spark = build_session("generate", cfg)
    try:
        return generate_sharded(params, shards, landing, truth_dir, formats, spark)
    finally:
        spark.stop()
