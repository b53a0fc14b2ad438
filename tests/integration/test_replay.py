"""bench/replay.py: a copy of a warehouse taken back to the moment a step of its last run
started, and that step replayed on it, gives the tables the run gave (and leaves the world
alone). Timings are printed, never asserted."""
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.replay import (Night, Replay, ReplayError, code_labels, digest, night_run_ids, parse_steps, report,
                          table_digests, table_versions, the_night)
from bench.rollback import RollbackError, copy_tree, roll_back_streams, roll_back_tables
from jobs.common.config import PROJECT_ROOT


def write(spark, path: Path, ids: list[int], mode: str = "append") -> None:
    spark.createDataFrame([(i,) for i in ids], "id INT").write.format("delta").mode(mode).save(str(path))


def ids(spark, path: Path) -> list[int]:
    return sorted(r.id for r in spark.read.format("delta").load(str(path)).collect())


def test_a_copy_rolled_back_to_a_moment_has_each_table_as_it_stood_and_the_source_is_untouched(spark, tmp_path):
    source, copy = tmp_path / "warehouse", tmp_path / "copy"
    write(spark, source / "silver" / "a", [1])
    write(spark, source / "silver" / "a", [2])
    time.sleep(0.05)
    moment_ms = time.time() * 1000
    time.sleep(0.05)
    write(spark, source / "silver" / "a", [3], mode="overwrite")
    write(spark, source / "gold" / "b", [9])  # created after the moment

    copy_tree(source, copy)
    changed = roll_back_tables(copy, moment_ms)

    assert changed == {"silver/a": (1, 1), "gold/b": (None, -1)}
    assert ids(spark, copy / "silver" / "a") == [1, 2]
    assert table_versions(copy) == {"silver/a": 1}
    assert ids(spark, source / "silver" / "a") == [3]  # the hard-linked source is as it was
    assert table_versions(source) == {"gold/b": 0, "silver/a": 2}
    write(spark, copy / "silver" / "a", [4])  # the copy goes on from there
    assert ids(spark, copy / "silver" / "a") == [1, 2, 4] and ids(spark, source / "silver" / "a") == [3]


def stream(root: Path, batches: dict[int, float], compact: int | None = None) -> None:
    for folder in ("offsets", "commits", "sources/0"):
        (root / folder).mkdir(parents=True)
        for batch, when in batches.items():
            name = f"{batch}.compact" if folder == "sources/0" and batch == compact else str(batch)
            for path in (root / folder / name, root / folder / f".{name}.crc"):
                path.write_text("x")
                os.utime(path, (when, when))


def test_streaming_checkpoints_lose_the_batches_committed_at_or_after_the_moment(tmp_path):
    stream(tmp_path / "bronze" / "events", {0: 100.0, 1: 200.0, 2: 300.0})
    stream(tmp_path / "silver" / "events", {0: 100.0})
    stream(tmp_path / "silver" / "late", {0: 250.0})

    assert roll_back_streams(tmp_path, 250_000) == {"bronze/events": 1, "silver/late": None}
    assert sorted(p.name for p in (tmp_path / "bronze" / "events" / "offsets").iterdir()) == [".0.crc", ".1.crc", "0", "1"]
    assert sorted(p.name for p in (tmp_path / "bronze" / "events" / "sources" / "0").iterdir())[-1] == "1"
    assert not (tmp_path / "silver" / "late").exists()
    assert (tmp_path / "silver" / "events" / "commits" / "0").exists()


def test_a_compacted_file_log_that_would_lose_batches_is_refused(tmp_path):
    stream(tmp_path / "s", {9: 100.0, 10: 300.0}, compact=10)  # batches 0-8 were compacted away into 10
    (tmp_path / "s" / "sources" / "0" / "9").unlink()
    with pytest.raises(RollbackError, match="cannot be restored"):
        roll_back_streams(tmp_path, 200_000)


def test_the_report_names_every_table_that_differs_from_the_world():
    replays = [Replay("abc1234", 1, 30.0, 900.0, {"silver_oltp": 20.0}, {"silver/dim_users": (5, 11)}),
               Replay("def5678", 1, 28.0, 950.0, {"silver_oltp": 18.5}, {"silver/dim_users": (5, 12)})]
    lines = report(replays, ("silver_oltp",), {"silver/dim_users": (5, 11)})
    assert lines[0].split() == ["step", "abc1234", "def5678"]
    assert lines[1].split() == ["silver_oltp", "20.0", "18.5"]
    assert lines[3].split() == ["process", "wall", "30.0", "28.0"]
    assert lines[4].split() == ["peak", "MiB", "900", "950"]  # each code's own, not the largest of all
    assert "DIFFERS: silver/dim_users after def5678 round 1: 5 rows, against 5 in the world" in lines
    assert not any("abc1234 round" in line for line in lines)


def quarantine_rows(path: Path, rows: list[tuple[str, str, str]]) -> None:
    """(source, raw, run_id) rows as a Delta table shaped like ops.quarantine's stamps, without Spark."""
    import pyarrow as pa
    from deltalake import write_deltalake
    stamp = dt.datetime(2024, 3, 31, tzinfo=dt.timezone.utc)
    write_deltalake(str(path), pa.table({"source": [r[0] for r in rows], "raw": [r[1] for r in rows],
                                         "run_id": [r[2] for r in rows], "quarantined_ts": [stamp] * len(rows)}))


def test_a_shared_tables_digest_is_that_of_the_rows_the_named_runs_wrote(tmp_path):
    quarantine_rows(tmp_path / "world", [("events", "a", "e1"), ("oltp/orders", "b", "o1"), ("oltp/orders", "c", "o2"),
                                         ("events", "d", "e2")])
    quarantine_rows(tmp_path / "replay", [("events", "a", "e1"), ("oltp/orders", "b", "x1"),
                                          ("oltp/orders", "c", "x2")])
    assert digest(tmp_path / "world")[0] == 4
    assert digest(tmp_path / "world", {"o1", "o2"}) == digest(tmp_path / "replay", {"x1", "x2"})  # run ids not hashed
    assert digest(tmp_path / "world", {"o1", "o2"})[0] == 2
    assert digest(tmp_path / "world", {"o1"}) != digest(tmp_path / "replay", {"x1", "x2"})
    assert digest(tmp_path / "world", set()) == (0, 0)
    (tmp_path / "ops").mkdir()
    (tmp_path / "world").rename(tmp_path / "ops" / "quarantine")
    replayed = digest(tmp_path / "replay", {"x1", "x2"})
    assert table_digests(tmp_path, ["ops/quarantine"], {"o1", "o2"}) == {"ops/quarantine": replayed}
    (tmp_path / "replay").rename(tmp_path / "ops" / "other")
    assert table_digests(tmp_path, ["ops/other"], {"x1"})["ops/other"][0] == 3  # not shared: every row


def test_the_nights_runs_are_the_replayed_steps_from_its_first_steps_start_on():
    night = Night(dt.datetime(2024, 4, 1, 2, 0), None, None)
    runs = [{"run_id": "old", "job": "silver_oltp", "started_ts": dt.datetime(2024, 3, 31, 2, 0)},
            {"run_id": "oltp", "job": "silver_oltp", "started_ts": dt.datetime(2024, 4, 1, 2, 0)},
            {"run_id": "events", "job": "silver_events", "started_ts": dt.datetime(2024, 4, 1, 2, 5)},
            {"run_id": "gold", "job": "gold_customers", "started_ts": dt.datetime(2024, 4, 1, 2, 9)}]
    assert night_run_ids(runs, ("silver_oltp", "gold_customers"), night) == {"oltp", "gold"}


def test_the_report_says_which_tables_are_compared_by_the_replayed_runs_rows_only():
    tables = {"ops/quarantine": (2, 7), "silver/dim_users": (5, 11)}
    lines = report([Replay("abc1234", 1, 30.0, 900.0, {"silver_oltp": 20.0}, tables)], ("silver_oltp",), tables)
    assert not any(line.startswith("DIFFERS") for line in lines)
    assert lines[-2] == "tables checked against the world: ops/quarantine, silver/dim_users"
    assert lines[-1] == "ops/quarantine: only the rows the replayed steps' runs wrote are compared"


def test_the_first_or_the_last_run_of_the_first_step_is_replayed_with_its_dates(spark, tmp_path):
    day = dt.date(2024, 3, 31)
    runs = [("silver_sessions", dt.datetime(2024, 4, 1, 1), None, None),  # the full build
            ("gold_funnel", dt.datetime(2024, 4, 1, 2), None, None),
            ("silver_sessions", dt.datetime(2024, 4, 2, 1), day, day),  # the night
            ("gold_funnel", dt.datetime(2024, 4, 2, 2), day, day)]
    (spark.createDataFrame([(f"run{n}", job, at, 1000, start, end, "succeeded")
                            for n, (job, at, start, end) in enumerate(runs)],
                           "run_id string, job string, started_ts timestamp, duration_ms bigint, start_date date, "
                           "end_date date, status string")
     .write.format("delta").save(str(tmp_path / "ops" / "job_runs")))
    steps = ("silver_sessions", "gold_funnel")

    def run_of(which):
        night = the_night(tmp_path, steps, which)
        return night.started.replace(tzinfo=None), night.start_date, night.end_date

    assert run_of("last") == (dt.datetime(2024, 4, 2, 1), day, day)
    assert run_of("first") == (dt.datetime(2024, 4, 1, 1), None, None)
    with pytest.raises(ReplayError, match="silver_sessions did not run after"):
        the_night(tmp_path, ("gold_funnel", "silver_sessions"))


def test_a_replay_of_the_first_run_names_what_its_tables_are_set_against():
    replays = [Replay("abc1234", 1, 30.0, 900.0, {"gold_funnel": 2.0}, {"gold/funnel_daily": (30, 7)}),
               Replay("def5678", 1, 28.0, 950.0, {"gold_funnel": 1.5}, {"gold/funnel_daily": (30, 8)})]
    lines = report(replays, ("gold_funnel",), {"gold/funnel_daily": (30, 7)}, "abc1234 round 1")
    assert "DIFFERS: gold/funnel_daily after def5678 round 1: 30 rows, against 30 in abc1234 round 1" in lines
    assert "tables checked against abc1234 round 1: gold/funnel_daily" in lines


def test_codes_that_would_share_a_label_are_told_apart_by_folder_then_by_path(tmp_path):
    def checkout(path: Path, origin: Path | None = None) -> Path:
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
        if origin is None:
            path.mkdir(parents=True)
            subprocess.run([*git, "init", "-q", str(path)], check=True)
            (path / "job.py").write_text("x = 1\n")
            subprocess.run([*git, "-C", str(path), "add", "job.py"], check=True)
            subprocess.run([*git, "-C", str(path), "commit", "-q", "-m", "one"], check=True)
        else:
            subprocess.run([*git, "clone", "-q", str(origin), str(path)], check=True)
            (path / "job.py").write_text(f"x = {len(str(path))}\n")  # each with its own changes
        return path

    clean = checkout(tmp_path / "clean")
    head = subprocess.run(["git", "-C", str(clean), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    a, b = checkout(tmp_path / "a", clean), checkout(tmp_path / "b", clean)
    same_folder = checkout(tmp_path / "other" / "a", clean)
    assert code_labels([clean, a]) == {clean: head, a: f"{head}+changes"}
    assert code_labels([a, b]) == {a: f"{head}+changes (a)", b: f"{head}+changes (b)"}
    assert code_labels([a, same_folder, b]) == {
        a: f"{head}+changes ({a})", same_folder: f"{head}+changes ({same_folder})", b: f"{head}+changes (b)"}


def test_steps_are_taken_in_the_pipelines_order():
    assert parse_steps(["gold_customers,silver_oltp"]) == ("silver_oltp", "gold_customers")
    assert len(parse_steps(["all"])) == 17


@pytest.mark.slow
def test_replaying_a_worlds_last_night_gives_its_tables_and_leaves_the_world_alone(oltp_nights, tmp_path):
    """The OLTP world taken night by night (no other test runs jobs on it): silver_oltp of its
    last night, over the one new dump bronze_oltp took just before, is replayed."""
    world = Path(oltp_nights[0].paths.warehouse).parent
    before = table_versions(world / "warehouse")
    result = subprocess.run([sys.executable, "-m", "bench.replay", str(world), "silver_oltp",
                             "--env", "test", "--scratch", str(tmp_path / "scratch")],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    print(result.stdout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "silver/fact_orders: back to version" in result.stdout
    assert "bronze/oltp_snapshots:" not in result.stdout  # written before silver_oltp started: kept whole
    assert "DIFFERS" not in result.stdout
    checked = result.stdout.split("tables checked against the world: ")[1].splitlines()[0].split(", ")
    assert {"silver/fact_orders", "silver/dim_users", "ops/quarantine"} <= set(checked)
    assert "bronze/oltp_snapshots" not in checked
    assert table_versions(world / "warehouse") == before  # the world itself was not touched
    assert not [p for p in (tmp_path / "scratch").iterdir() if p.is_dir()]  # the copies were removed
