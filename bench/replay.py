"""Replay steps of a world's last run (or first) on copies of its warehouse, to measure a change A/B.

    python -m bench.replay data/bench/world-16M-30+1d silver_oltp
    python -m bench.replay data/bench/world-4M-30+1d gold_daily_kpis gold_marketing --code /tmp/old --code . --rounds 2
    python -m bench.replay data/bench/world-1M-30+1d all
    python -m bench.replay data/bench/world-4M-30+1d silver_sessions gold_funnel --run first --code /tmp/old --code .

The world (a folder with landing/, warehouse/ and checkpoints/, as `make bench` leaves one
after its one new day) is copied as it was when the last run of the first step named
started: data files hard-linked, Delta logs and streaming checkpoints cut back to that
moment (bench/rollback.py), so the copy has the tables, versions and ledgers the step met
then. The steps are then run on it in one `python -m jobs pipeline --steps ...` process per
copy, with the dates that run had. With several --code folders (each a checkout of this
project with its own .jars, e.g. a `git worktree` with .jars linked), each round runs every
code once, in turn, on a fresh copy: old and new code alternate on the same machine.

Reported: each step's seconds inside the JVM (from the copy's ops.job_runs, as the bench
reports its jobs), each process's wall seconds and peak memory, and a digest (rows and an
order-free hash, run stamps left out) of every table the steps wrote, set against the same
table in the world now: a replay that changed no code must give the tables the run gave.
ops.quarantine, which every cleaning step appends to, is compared by the rows the replayed
steps' runs wrote (in the world: their runs of the replayed night), so replaying some steps
does not report the rows of the others as missing.
With `--run first` the steps of the world's first run (a bench world's full build of its 30
days) are replayed instead; the world has moved on since, so the tables are then set against
the first replay's (the first --code, round 1).
Timings are medians over the rounds; on 2 cores they move by several percent from run to
run, so compare codes within one replay, not across days.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Collection
from pathlib import Path

from bench.measure import run_measured
from bench.rollback import COMMIT, RollbackError, copy_tree, delta_tables, roll_back_streams, roll_back_tables
from bench.run import job_environment
from jobs.common.config import PROJECT_ROOT, Paths
from jobs.pipeline import STEPS

# what every run stamps on rows it writes (its id and clock); ledgers are all run stamps
RUN_COLUMNS = {"_ingested_at", "_batch_id", "_ingest_date", "run_id", "quarantined_ts", "quarantine_date"}
LEDGERS = {"ops/job_runs", "ops/table_builds", "ops/gold_builds"}
# appended to by several steps: only the rows of the replayed steps' runs are compared
SHARED = {"ops/quarantine"}
COPIED = {"warehouse", "checkpoints", "event_log"}  # the paths a replay writes; it reads the world's others


class ReplayError(Exception):
    """The replay cannot be set up as asked."""


@dataclasses.dataclass(frozen=True)
class Night:
    """The run being replayed: when its first replayed step started, with which dates."""
    started: dt.datetime
    start_date: dt.date | None
    end_date: dt.date | None


def job_runs(warehouse: Path) -> list[dict]:
    from deltalake import DeltaTable
    columns = ["run_id", "job", "started_ts", "duration_ms", "start_date", "end_date", "status"]
    return DeltaTable(str(warehouse / "ops" / "job_runs")).to_pyarrow_table(columns=columns).to_pylist()


def the_night(warehouse: Path, steps: tuple[str, ...], which: str = "last") -> Night:
    """The last (or first) run of the first step, and its dates; every other step must have run after it."""
    if not (warehouse / "ops" / "job_runs" / "_delta_log").is_dir():
        raise ReplayError(f"{warehouse} has no ops.job_runs: run the pipeline on the world first")
    runs = job_runs(warehouse)
    of_step = [r for r in runs if r["job"] == steps[0]]
    if not of_step:
        raise ReplayError(f"{steps[0]} never ran on {warehouse}: nothing to replay")
    run = (max if which == "last" else min)(of_step, key=lambda r: r["started_ts"])
    missing = [s for s in steps[1:] if not any(r["job"] == s and r["started_ts"] > run["started_ts"] for r in runs)]
    if missing:
        raise ReplayError(f"{', '.join(missing)} did not run after the {which} run of {steps[0]} "
                          f"({run['started_ts']:%Y-%m-%d %H:%M:%S}): replay steps of one run")
    return Night(run["started_ts"], run["start_date"], run["end_date"])


def prepare(world: Path, root: Path, night: Night, quiet: bool = True) -> None:
    """`root`: the world as it stood when the night's first replayed step started."""
    shutil.rmtree(root, ignore_errors=True)
    moment_ms = night.started.timestamp() * 1000
    copy_tree(world / "warehouse", root / "warehouse")
    if (world / "checkpoints").is_dir():
        shutil.copytree(world / "checkpoints", root / "checkpoints", copy_function=shutil.copy2)
    tables = roll_back_tables(root / "warehouse", moment_ms)
    streams = roll_back_streams(root / "checkpoints", moment_ms) if (root / "checkpoints").is_dir() else {}
    if not quiet:
        for table, (version, dropped) in tables.items():
            print(f"  {table}: " + (f"back to version {version} ({dropped} commits dropped)" if version is not None
                                     else "created later: left out"))
        for stream, batch in streams.items():
            print(f"  checkpoint {stream}: " + (f"back to batch {batch}" if batch is not None else "removed"))


def replay_command(code: Path, world: Path, root: Path, env: str, steps: tuple[str, ...], night: Night,
                   overrides: tuple[str, ...] = ()) -> list[str]:
    """The steps in one process over the copy at `root`, reading the world's own landing files
    (the file paths bronze records are then the same as the world's)."""
    python = code / ".venv" / "bin" / "python"
    command = [str(python if python.exists() else sys.executable), "-m", "jobs", "--env", env]
    for name in (field.name for field in dataclasses.fields(Paths)):
        command += ["--conf", f"paths.{name}={(root if name in COPIED else world) / name}"]
    for item in overrides:
        command += ["--conf", item]
    command += ["pipeline", "--steps", ",".join(steps)]
    if night.start_date is not None:
        command += ["--start", night.start_date.isoformat(), "--end", night.end_date.isoformat()]
    return command


def table_versions(warehouse: Path) -> dict[str, int]:
    """Each Delta table under `warehouse` (as a relative path) with its newest version."""
    versions = {}
    for table in delta_tables(warehouse):
        commits = [int(m.group(1)) for m in map(COMMIT.match, os.listdir(table / "_delta_log")) if m]
        versions[str(table.relative_to(warehouse))] = max(commits)
    return versions


def digest(table: Path, run_ids: Collection[str] | None = None) -> tuple[int, int]:
    """(rows, a hash of the rows that ignores their order) of a Delta table, run stamps left out;
    with `run_ids`, of only the rows those runs wrote (the table's run_id)."""
    import duckdb
    from deltalake import DeltaTable
    data = DeltaTable(str(table)).to_pyarrow_dataset()
    columns = [name for name in data.schema.names if name not in RUN_COLUMNS]
    if table.parent.name == "silver" and table.name == "events":
        columns.remove("_source_file")  # which copy of a duplicated event is kept is not fixed
    with duckdb.connect() as con:
        con.register("t", data)
        quoted = ", ".join(f'"{c}"' for c in columns)
        where, parameters = ("WHERE list_contains(?, run_id)", [sorted(run_ids)]) if run_ids is not None else ("", [])
        rows, hashed = con.execute(f"SELECT count(*), coalesce(sum(hash({quoted})::HUGEINT), 0) FROM t {where}",
                                   parameters).fetchone()
    return int(rows), int(hashed)


def table_digests(warehouse: Path, tables: Collection[str], run_ids: Collection[str]) -> dict[str, tuple[int, int]]:
    """digest() of each of `tables` under `warehouse`; a SHARED one's of the rows of `run_ids` only."""
    return {t: digest(warehouse / t, run_ids if t in SHARED else None) for t in tables}


def night_run_ids(runs: list[dict], steps: tuple[str, ...], night: Night) -> set[str]:
    """The ids of the runs of `steps` in the night: those that started when its first step did or later."""
    return {r["run_id"] for r in runs if r["job"] in steps and r["started_ts"] >= night.started}


def code_label(code: Path) -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(code), *args], capture_output=True, text=True).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or code.name
    return head + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def code_labels(codes: list[Path]) -> dict[Path, str]:
    """Each code's label (code_label); codes that would share one (two checkouts of one commit,
    each with its own changes) are told apart by their folder, or by their path if that is
    shared too, so the summary keeps them apart."""
    base = {code: code_label(code) for code in codes}
    labels = {}
    for code in codes:
        same = [other for other in codes if base[other] == base[code]]
        if len(same) == 1:
            labels[code] = base[code]
        else:
            folder_shared = sum(other.name == code.name for other in same) > 1
            labels[code] = f"{base[code]} ({code if folder_shared else code.name})"
    return labels


def check_code(code: Path) -> None:
    if not (code / "jobs" / "pipeline.py").is_file():
        raise ReplayError(f"{code} is not a checkout of this project (no jobs/pipeline.py)")
    if not any((code / ".jars").glob("*.jar")):
        raise ReplayError(f"{code}/.jars has no jars: run `make setup` there, or link this project's: "
                          f"ln -s {PROJECT_ROOT / '.jars'} {code / '.jars'}")
    helped = subprocess.run([sys.executable, "-m", "jobs", "pipeline", "--help"], cwd=code, capture_output=True,
                            text=True)
    if "--steps" not in helped.stdout:
        raise ReplayError(f"the code at {code} has no `pipeline --steps`, which the replay runs the steps with")


@dataclasses.dataclass
class Replay:
    code: str
    round: int
    wall_s: float
    peak_mb: float
    steps_s: dict[str, float]
    tables: dict[str, tuple[int, int]]


@dataclasses.dataclass(frozen=True)
class Plan:
    world: Path
    scratch: Path
    steps: tuple[str, ...]
    night: Night
    env: str
    overrides: tuple[str, ...]
    check: bool


def replay_once(plan: Plan, code: Path, label: str, name: str, round_: int) -> Replay:
    """One run of the steps with `code` (reported as `label`) on a fresh copy named `name`
    (removed after; its log and any event log stay in the scratch folder)."""
    root, log = plan.scratch / name, plan.scratch / f"{name}.log"
    prepare(plan.world, root, plan.night)
    before, began = table_versions(root / "warehouse"), time.time()
    command = replay_command(code, plan.world, root, plan.env, plan.steps, plan.night, plan.overrides)
    measured = run_measured(command, log, cwd=code, env=job_environment())
    runs = [r for r in job_runs(root / "warehouse") if r["started_ts"].timestamp() >= began and r["job"] in plan.steps]
    failed = [r["job"] for r in runs if r["status"] != "succeeded"]
    if failed:
        raise ReplayError(f"{', '.join(failed)} failed in the replay; see {log}")
    written = [t for t, v in table_versions(root / "warehouse").items() if v != before.get(t) and t not in LEDGERS]
    tables = table_digests(root / "warehouse", written, {r["run_id"] for r in runs}) if plan.check else {}
    if (root / "event_log").is_dir() and any((root / "event_log").iterdir()):
        shutil.move(root / "event_log", plan.scratch / f"event_log-{name}")
    shutil.rmtree(root)
    return Replay(label, round_, measured.wall_s, measured.peak_rss_mb,
                  {r["job"]: round(r["duration_ms"] / 1000, 1) for r in runs}, tables)


def report(replays: list[Replay], steps: tuple[str, ...], world_tables: dict[str, tuple[int, int]],
           against: str = "the world") -> list[str]:
    """The median seconds per step and code, and every table digest that differs from the world's
    (or from `against`'s, the digests `world_tables` then holds)."""
    codes = list(dict.fromkeys(r.code for r in replays))
    rows = [["step", *codes]]
    totals = {"all steps": lambda r: sum(r.steps_s.values()), "process wall": lambda r: r.wall_s,
              "peak MiB": lambda r: r.peak_mb}
    for step in (*steps, *totals):
        cells = [step]
        for code in codes:
            values = [totals[step](r) if step in totals else r.steps_s.get(step, float("nan"))
                      for r in replays if r.code == code]
            digits = 0 if step == "peak MiB" else 1
            cells.append(f"{statistics.median(values):.{digits}f}" +
                         (f" ({', '.join(f'{v:.{digits}f}' for v in values)})" if len(values) > 1 else ""))
        rows.append(cells)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    for replay in replays:
        for table, value in sorted(replay.tables.items()):
            if value != world_tables.get(table):
                lines.append(f"DIFFERS: {table} after {replay.code} round {replay.round}: {value[0]:,} rows, "
                             f"against {world_tables.get(table, (0,))[0]:,} in {against}")
    if replays[0].tables:
        lines.append(f"tables checked against {against}: {', '.join(sorted(replays[0].tables))}")
        for table in sorted(SHARED & set(replays[0].tables)):
            lines.append(f"{table}: only the rows the replayed steps' runs wrote are compared")
    return lines


def parse_steps(names: list[str]) -> tuple[str, ...]:
    wanted = set(STEPS) if names == ["all"] else {n for name in names for n in name.split(",") if n}
    unknown = sorted(wanted - set(STEPS))
    if unknown:
        raise ReplayError(f"unknown step {', '.join(unknown)}; the steps are {', '.join(STEPS)} (or `all`)")
    return tuple(step for step in STEPS if step in wanted)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replay", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("world", type=Path, help="a world folder after its runs, e.g. data/bench/world-4M-30+1d")
    parser.add_argument("steps", nargs="+", help="pipeline steps to replay (run in the pipeline's order), or `all`")
    parser.add_argument("--code", type=Path, action="append",
                        help="a checkout of the project to run the steps with; repeatable (default: this one)")
    parser.add_argument("--rounds", type=int, default=1, help="how many times each code runs (default 1)")
    parser.add_argument("--env", default="bench", help="configuration environment (default bench, as the world's)")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                        help="a configuration override for the steps' run, e.g. spark.event_log_enabled=true "
                             "(the event log then stays in <scratch>/event_log-code<N>-round<R>); repeatable")
    parser.add_argument("--scratch", type=Path, help="where the copies go (default: <world>/replay); removed after")
    parser.add_argument("--run", choices=("last", "first"), default="last",
                        help="which run of the world to replay: its last (a bench world's night, the default) or "
                             "its first (a bench world's full build); with first, the tables are set against the "
                             "first replay's, since the world's have moved on")
    parser.add_argument("--no-check", dest="check", action="store_false",
                        help="skip the table digests (they read every table the steps wrote)")
    args = parser.parse_args(argv)
    steps, world = parse_steps(args.steps), args.world.resolve()
    codes = [c.resolve() for c in args.code or [PROJECT_ROOT]]
    for code in codes:
        check_code(code)
    labels = code_labels(codes)
    night = the_night(world / "warehouse", steps, args.run)
    plan = Plan(world, (args.scratch or world / "replay").resolve(), steps, night, args.env, tuple(args.conf),
                args.check)
    print(f"replaying {', '.join(steps)} as the {args.run} run, of {night.started:%Y-%m-%d %H:%M:%S} UTC, met them; "
          "the copy:")
    prepare(world, plan.scratch / "preview", night, quiet=False)
    shutil.rmtree(plan.scratch / "preview")
    world_tables: dict[str, tuple[int, int]] = {}
    world_runs = night_run_ids(job_runs(world / "warehouse"), steps, night)
    replays = []
    for round_ in range(1, args.rounds + 1):
        for number, code in enumerate(codes, start=1):
            replay = replay_once(plan, code, labels[code], f"code{number}-round{round_}", round_)
            for table in replay.tables:
                if table not in world_tables:
                    world_tables[table] = (table_digests(world / "warehouse", [table], world_runs)[table]
                                           if args.run == "last" else replay.tables[table])
            print(f"round {round_}, {replay.code}: {sum(replay.steps_s.values()):.1f} s in the steps, "
                  f"{replay.wall_s:.1f} s wall", flush=True)
            replays.append(replay)
    against = "the world" if args.run == "last" else f"{replays[0].code} round 1"
    print("\n".join(report(replays, steps, world_tables, against)))
    return 1 if any(v != world_tables.get(t) for r in replays for t, v in r.tables.items()) else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (ReplayError, RollbackError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
