"""A world generated as shards, in turn or as Spark tasks: byte-identical either way, users
numbered without overlap, and the daily KPIs of the combined files equal the sum of the
shards' own truths (DuckDB computes them, no pipeline run needed)."""
import csv
import dataclasses
import hashlib
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.compare import reference_kpis
from jobs.common.config import PROJECT_ROOT
from tests.integration.world_helpers import SMALL
from world.shards import generate_sharded

PARAMS = dataclasses.replace(SMALL, users=120, days=3)


def checksums(landing: Path) -> dict[str, str]:
    return {p.relative_to(landing).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(landing.rglob("*")) if p.is_file()}


def test_shards_generated_by_spark_tasks_equal_shards_generated_in_turn(spark, tmp_path):
    generate_sharded(PARAMS, 3, tmp_path / "a" / "landing", tmp_path / "a" / "truth")
    manifest = generate_sharded(PARAMS, 3, tmp_path / "b" / "landing", tmp_path / "b" / "truth", spark=spark)
    a, b = checksums(tmp_path / "a" / "landing"), checksums(tmp_path / "b" / "landing")
    assert a == b and len(a) > 100
    assert not (tmp_path / "b" / "landing" / ".shards").exists()
    assert manifest["counts"]["users"] == PARAMS.users and manifest["shards"] == 3
    assert sum(1 for name in a if name.startswith("oltp/products/")) == PARAMS.days  # shared: written once

    users = Counter()
    for path in (tmp_path / "a" / "landing" / "oltp" / "users").rglob("*.csv"):
        with path.open(newline="") as handle:
            users.update({row["user_id"] for row in csv.DictReader(handle) if row["user_id"].isdigit()})
    assert len(users) == PARAMS.users  # 1..120, each in exactly one shard's dumps
    assert {int(u) for u in users} == set(range(1, PARAMS.users + 1))


def test_combined_shards_have_the_summed_truth_of_their_shards(tmp_path):
    generate_sharded(PARAMS, 3, tmp_path / "landing", tmp_path / "truth")
    out = tmp_path / "duckdb.json"
    result = subprocess.run([sys.executable, "-m", "bench.reference_duckdb", str(tmp_path / "landing"), str(out)],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    kpis = reference_kpis(out)
    summed = Counter()
    for shard in sorted((tmp_path / "truth" / "shards").iterdir()):
        with (shard / "UTC" / "daily_kpis.csv").open(newline="") as handle:
            for row in csv.DictReader(handle):
                for metric in ("dau", "visitors", "buyers"):
                    summed[(row["business_date"], metric)] += int(row[metric])
        with (shard / "UTC" / "funnel_daily.csv").open(newline="") as handle:
            for row in csv.DictReader(handle):
                summed[(row["business_date"], "sessions")] += int(row["sessions"])
    computed = Counter({(date, metric): value for date, row in kpis["activity"].items() for metric, value in row.items()})
    computed.update({(date, "sessions"): row["sessions"] for date, row in kpis["funnel"].items()})
    assert +computed == +summed
