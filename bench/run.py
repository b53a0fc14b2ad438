"""The benchmark: the pipeline against DuckDB and PostgreSQL on the same landing files.

    python -m bench.run                      # 1M, 4M and 16M events (make bench)
    python -m bench.run --sizes 1M,4M        # any sizes: 500k, 2M, 2500000, ...
    python -m bench.run --smoke              # a tiny world, every engine, correctness only

For each size it generates a world of 30 days plus one (Spark-parallel, world/shards.py; the
31st day is held back), runs the whole pipeline from landing to gold in local mode over the
30 days, and runs the reference implementations of the core work (parse and type the events,
quarantine bad lines, dedupe by event id, sessions, daily activity and funnel counts; orders,
revenue, refunds and paying users from the OLTP dumps) in DuckDB and in a PostgreSQL 15
server on 127.0.0.1 (loaded with COPY). Every engine's daily KPIs must be identical, or the
run fails. Then the incremental case: the 31st day arrives and the pipeline runs again over
the warehouse it built, one new day after 30 days of history, against that full build.
Results: bench/results/<UTC start time>.json and .md, rewritten after each size (marked
"complete": false until the end, so a stopped run keeps what it measured); at the end also
chart.png, and the newest finished run's JSON and table as latest.json and latest.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from bench.compare import Disagreement, pipeline_kpis, reference_kpis, compare
from bench.measure import Measurement, run_measured, server_processes, warm_page_cache
from bench.report import write_results
from jobs.common.config import PROJECT_ROOT, paths_under
from world.delivery import delivered, move_days

PY = sys.executable
EVENTS_PER_USER_DAY = 2.46   # measured: the default world (3,000 users, 30 days) has 221,289 clean events
USERS_PER_SHARD = 4000       # about 300k events a shard: a Spark task's memory stays well under 1 GiB
START = dt.date(2024, 3, 1)
SEED = 20240301
PG_SETTINGS = {"shared_buffers": "2GB", "work_mem": "512MB", "maintenance_work_mem": "1GB",
               "max_parallel_workers_per_gather": "2", "effective_cache_size": "8GB", "jit": "off"}


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def label(events: int) -> str:
    return f"{events / 1e6:g}M" if events >= 1_000_000 else f"{events / 1e3:g}k"


def world_args(events: int, days: int, extra_days: int = 0) -> list[str]:
    """Generator arguments for about `events` clean events over `days` days, and `extra_days`
    more days of the same users after them."""
    users = max(50, round(events / (EVENTS_PER_USER_DAY * days)))
    shards = max(1, -(-users // USERS_PER_SHARD))
    args = ["--seed", str(SEED), "--start-date", START.isoformat(), "--days", str(days + extra_days), "--users", str(users),
            "--products", str(max(50, min(5000, users // 20)))]
    return args + (["--shards", str(shards)] if shards > 1 else [])


def job_environment() -> dict[str, str]:
    """The environment the bench's jobs run in: the pseudonym key it built its worlds with,
    unless one is set (a replay must hash with the key the world was built with)."""
    return {**os.environ, "LAKEHOUSE_PSEUDONYM_KEY": os.environ.get("LAKEHOUSE_PSEUDONYM_KEY", "bench-key")}


def job(root: Path, *args: str, env: str = "bench") -> list[str]:
    return [PY, "-m", "jobs", "--env", env, *sum((["--conf", p] for p in paths_under(root)), []), *args]


class Bench:
    def __init__(self, work: Path, out: Path):
        self.work, self.out = work, out
        self.env = job_environment()

    def log(self, message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)

    def measured(self, name: str, command: list[str], servers=(), reads: Path | None = None) -> Measurement:
        """Run and measure `command`; `reads` (its landing folder) is read once first, outside
        the measurement, so every engine starts from the same warm page cache."""
        if reads is not None:
            warm_page_cache(reads)
        result = run_measured(command, self.work / f"{name}.log", cwd=PROJECT_ROOT, env=self.env, servers=servers)
        self.log(f"{name}: {result.wall_s:.1f} s, peak {result.peak_rss_mb:,.0f} MiB")
        return result

    def generate(self, root: Path, events: int, days: int) -> None:
        """A world of `days` days of about `events` events, and one day more."""
        if not (root / "truth" / "world.json").is_file():
            self.measured(f"generate-{root.name}", job(root, "generate", *world_args(events, days, 1), env="local"))

    def size(self, events: int, days: int, pg_dsn: str, pg_port: int) -> tuple[list[dict], dict]:
        """Every engine over `days` days of history, then the pipeline's one new day."""
        root = self.work / f"world-{label(events)}-{days}+1d"
        self.generate(root, events, days)
        landing, held = root / "landing", root / "held"
        new_day = START + dt.timedelta(days=days)
        move_days(landing, held, lambda day: day >= new_day)  # also when a reused world ran its new day
        for built in ("warehouse", "checkpoints"):  # the world is reused, what was built from it is not
            shutil.rmtree(root / built, ignore_errors=True)
        runs = []
        pipeline = self.measured(f"pipeline-{label(events)}", job(root, "pipeline"), reads=landing)
        n, jobs = clean_events(root / "warehouse"), job_seconds(root / "warehouse")
        runs.append({"engine": "pipeline", "events": n, "wall_s": pipeline.wall_s, "core_s": core_seconds(jobs),
                     "peak_rss_mb": pipeline.peak_rss_mb, "jobs_s": jobs})
        duck_out = root / "duckdb.json"
        duck = self.measured(f"duckdb-{label(events)}", [PY, "-m", "bench.reference_duckdb", str(landing),
                                                         str(duck_out)], reads=landing)
        runs.append({"engine": "duckdb", "events": n, "wall_s": duck.wall_s, "peak_rss_mb": duck.peak_rss_mb,
                     "phases_s": json.loads(duck_out.read_text())["phases_s"]})
        pg_out = root / "postgres.json"
        pg = self.measured(f"postgres-{label(events)}", [PY, "-m", "bench.reference_postgres", str(landing),
                                                         str(pg_out), "--dsn", pg_dsn],
                           servers=server_processes(pg_port), reads=landing)
        runs.append({"engine": "postgres", "events": n, "wall_s": pg.wall_s, "peak_rss_mb": pg.peak_rss_mb,
                     "phases_s": json.loads(pg_out.read_text())["phases_s"]})
        mine = pipeline_kpis(root / "warehouse")
        for engine, path in (("duckdb", duck_out), ("postgres", pg_out)):
            problems = compare(mine, reference_kpis(path))
            if problems:
                raise Disagreement(f"{engine} and the pipeline disagree at {label(events)}:\n" + "\n".join(problems[:20]))
        self.log(f"{label(events)}: the three engines agree on every daily KPI and quarantine count")
        for run in runs:
            run["events_per_s"] = round(n / run["wall_s"])
        return runs, self.one_new_day(root, new_day, label(events), n, pipeline.wall_s)

    def one_new_day(self, root: Path, new_day: dt.date, size: str, events: int, full_s: float) -> dict:
        """The held-back day arrives and the pipeline runs again over the warehouse it built.
        The full build it is set against is the size's own run over the days before it (a
        rebuild that also took in the new day would be a little longer: the share is, if
        anything, overstated)."""
        landing = root / "landing"
        move_days(root / "held", landing, lambda day: day == new_day)
        for day, path in delivered(landing):  # only the new day is new input: the history was read just before
            if day == new_day:
                warm_page_cache(path)
        before = time.time()
        one_day = self.measured(f"one-new-day-{size}", job(root, "pipeline"))
        return {"events": events, "new_day": new_day.isoformat(), "full_s": full_s, "one_day_s": one_day.wall_s,
                "one_day_share": round(one_day.wall_s / full_s, 3), "peak_rss_mb": one_day.peak_rss_mb,
                "jobs_s": job_seconds(root / "warehouse", since=before)}


CORE_JOBS = ("bronze_events", "silver_events", "silver_sessions", "gold_user_activity", "gold_daily_kpis", "gold_funnel")


def core_seconds(jobs: dict[str, float]) -> float:
    return round(sum(jobs.get(j, 0) for j in CORE_JOBS), 2)


def job_seconds(warehouse: Path, since: float = 0.0) -> dict[str, float]:
    """Seconds per job of the pipeline runs that started after `since` (a Unix time), from
    ops.job_runs: where the time went."""
    from deltalake import DeltaTable
    columns = ["job", "duration_ms", "started_ts"]
    rows = DeltaTable(str(warehouse / "ops" / "job_runs")).to_pyarrow_table(columns=columns).to_pylist()
    return {r["job"]: round(r["duration_ms"] / 1000, 2) for r in rows
            if r["job"] != "pipeline" and r["started_ts"].timestamp() >= since}


def clean_events(warehouse: Path) -> int:
    """The clean events the pipeline kept: the size of the world's history (the engines agree on it)."""
    from deltalake import DeltaTable
    return DeltaTable(str(warehouse / "silver" / "events")).to_pyarrow_dataset().count_rows()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1M,4M,16M", help="event counts to run (default: 1M,4M,16M)")
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny world (about 10k events over 3 days and one new day): checks correctness, not speed")
    parser.add_argument("--work", type=Path, default=PROJECT_ROOT / "data" / "bench",
                        help="where worlds and warehouses go (default: data/bench; a world is reused when present)")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results",
                        help="where results go (default: bench/results)")
    args = parser.parse_args(argv)
    sizes = [10_000] if args.smoke else [parse_size(s) for s in args.sizes.split(",")]
    args.work.mkdir(parents=True, exist_ok=True)
    bench = Bench(args.work, args.out)
    # a scheduler's or a user's kill (SIGTERM) unwinds like Ctrl-C, so the PostgreSQL server stops
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from tests.dbservers import postgres
    started, began = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), time.monotonic()
    result = {"runs": [], "incremental": None, "incremental_by_size": [], "machine": machine(), "started": started}

    def save(final: bool) -> list[Path]:
        result["total_s"] = round(time.monotonic() - began, 1)
        return write_results(result, args.out, final)

    with postgres(PG_SETTINGS) as server:
        dsn = f"host={server.host} port={server.port} user={server.user} password={server.password} dbname={server.database}"
        for events in sizes:
            runs, one_day = bench.size(events, 3 if args.smoke else 30, dsn, server.port)
            result["runs"] += runs
            result["incremental_by_size"].append(one_day)
            # the targets are judged at the largest size
            result["incremental"] = max(result["incremental_by_size"], key=lambda d: d["events"])
            bench.log(f"{label(events)} measured; so far: {save(final=False)[0]}")
    paths = save(final=True)
    bench.log(f"results: {', '.join(str(p) for p in paths)}")
    return 0


def machine() -> dict:
    import platform
    import psutil
    return {"cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
            "page_cache": "warm: each engine's landing files are read once just before it runs"}


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as error:  # noqa: BLE001 - one line for the user, the logs have the rest
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
