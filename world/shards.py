"""A big world as independent shards, generated in parallel by Spark tasks.

Shard k is a world of its own: its own seed, users numbered from their own range (so user,
order and payment ids never collide), the catalogue and ad spend of the whole world (the
same `catalog_seed` for every shard, so every shard writes identical product dumps and spend
files). Each shard writes into a folder of its own; its files then move into the landing
folder with `_partNNN` before the extension, the way parallel collectors and dump writers
name their parts (events_2024-03-01T13_part004.jsonl, oltp/users/2024-03-01/users_part004.csv).
Products and ad spend are taken from shard 0 only. Each shard's truth stays in
truth/shards/partNNN: the metrics that add up over disjoint users (orders, revenue, DAU,
funnel counts, quarantine) are sums of the shards' truths; ratios and distinct counts over
channels or experiments are not.

The same parameters and shard count give byte-identical files.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from world.model import Params
from world.writer import LANDING_SOURCES, generate

SHARED = ("oltp/products/", "marketing/")  # identical in every shard: kept once


def shard_params(params: Params, shards: int, index: int) -> Params:
    per_shard = -(-params.users // shards)
    first = params.first_user_id + index * per_shard
    users = max(0, min(per_shard, params.first_user_id + params.users - first))
    return dataclasses.replace(params, seed=params.seed * 100_003 + index, users=users, first_user_id=first,
                               catalog_seed=params.seed if params.catalog_seed is None else params.catalog_seed)


def part_name(relative: str, index: int) -> str:
    folder, _, name = relative.rpartition("/")
    stem, dot, ext = name.partition(".")
    return f"{folder}/{stem}_part{index:03d}{dot}{ext}"


def generate_shard(params: Params, shards: int, index: int, landing: str, truth: str,
                   formats: tuple[str, ...]) -> dict:
    """Generate shard `index` and move its files into `landing`; returns its counts."""
    landing_dir, truth_dir = Path(landing), Path(truth)
    work = landing_dir / ".shards" / f"part{index:03d}"
    shutil.rmtree(work, ignore_errors=True)
    manifest = generate(shard_params(params, shards, index), work, truth_dir / "shards" / f"part{index:03d}",
                        formats, force=True)
    for relative in sorted(manifest["files"]):
        source = work / relative
        if relative.startswith(SHARED):
            if index == 0:
                target = landing_dir / relative
            else:
                continue
        else:
            target = landing_dir / part_name(relative, index)
        target.parent.mkdir(parents=True, exist_ok=True)
        source.replace(target)
    shutil.rmtree(work, ignore_errors=True)
    return manifest["counts"]


def generate_sharded(params: Params, shards: int, landing: Path, truth_dir: Path,
                     formats: tuple[str, ...] = ("csv",), spark=None) -> dict:
    """Every shard, as Spark tasks when a session is given (one task per shard), else in turn.
    The landing folder must be reachable from every executor (local mode, or shared storage)."""
    if any((landing / source).exists() for source in LANDING_SOURCES):
        raise FileExistsError(f"{landing} already holds files: generate a sharded world into an empty folder")
    args = (str(landing.resolve()), str(truth_dir.resolve()), formats)
    if spark is None:
        counts = [generate_shard(params, shards, i, *args) for i in range(shards)]
    else:
        counts = (spark.sparkContext.parallelize(range(shards), shards)
                  .map(lambda i: generate_shard(params, shards, i, *args)).collect())
    shutil.rmtree(landing / ".shards", ignore_errors=True)
    total = {key: sum(c[key] for c in counts) for key in counts[0]}
    total["products"] = counts[0]["products"]
    manifest = {"params": {**dataclasses.asdict(params), "start_date": params.start_date.isoformat()},
                "shards": shards, "dump_formats": list(formats), "counts": total}
    truth_dir.mkdir(parents=True, exist_ok=True)
    (truth_dir / "world.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest
