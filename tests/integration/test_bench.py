"""The benchmark's correctness check, on the small world the session already built: DuckDB
and PostgreSQL, each running the core work in SQL over the same landing files, agree with
the pipeline's gold tables and quarantine on every daily KPI. Timings are never asserted."""
import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bench.compare import compare, pipeline_kpis, reference_kpis
from bench.measure import warm_page_cache
from bench.reference_postgres import SETUP
from bench.report import growth, ratios, targets, write_results
from jobs.common.config import PROJECT_ROOT
from tests.integration.world_helpers import truth_csv

pytestmark = pytest.mark.slow


def reference(module, landing, out, *extra):
    result = subprocess.run([sys.executable, "-m", module, str(landing), str(out), *extra], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return reference_kpis(out)


def test_duckdb_postgres_and_the_pipeline_agree_on_the_small_world(clean_run, db_servers, tmp_path):
    landing, warehouse = Path(clean_run.paths.landing), Path(clean_run.paths.warehouse)
    pg = db_servers["postgresql"]
    dsn = f"host={pg.host} port={pg.port} user={pg.user} password={pg.password} dbname={pg.database}"
    duckdb = reference("bench.reference_duckdb", landing, tmp_path / "duckdb.json")
    postgres = reference("bench.reference_postgres", landing, tmp_path / "postgres.json", "--dsn", dsn)
    mine = pipeline_kpis(warehouse)

    assert compare(mine, duckdb) == []
    assert compare(mine, postgres) == []
    truth = {r["business_date"]: r for r in truth_csv(clean_run, "UTC/daily_kpis.csv")}
    assert {d: (v["dau"], v["buyers"]) for d, v in duckdb["activity"].items()} == \
        {d: (int(r["dau"]), int(r["buyers"])) for d, r in truth.items()}
    true_money = {d: (int(r["orders"]), int(r["gross_revenue_cents"]), int(r["refunds_cents"]), int(r["paying_users"]))
                  for d, r in truth.items() if int(r["orders"]) or int(r["refunds_cents"])}
    for engine in (duckdb, postgres):
        assert {d: (v["orders"], v["gross_cents"], v["refund_cents"], v["paying_users"])
                for d, v in engine["money"].items()} == true_money
    assert sum(duckdb["quarantine"].values()) > 0


def test_growth_compares_each_size_with_the_next():
    runs = [{"engine": "pipeline", "events": 1000, "wall_s": 10.0}, {"engine": "pipeline", "events": 4000, "wall_s": 30.0},
            {"engine": "duckdb", "events": 4000, "wall_s": 8.0}, {"engine": "duckdb", "events": 1000, "wall_s": 1.0}]
    assert growth(runs) == [
        {"engine": "pipeline", "from_events": 1000, "to_events": 4000, "events_ratio": 4.0, "time_ratio": 3.0},
        {"engine": "duckdb", "from_events": 1000, "to_events": 4000, "events_ratio": 4.0, "time_ratio": 8.0}]


def test_a_difference_between_engines_is_reported():
    mine = {"activity": {"2024-03-01": {"dau": 3, "visitors": 4, "buyers": 1}}, "funnel": {},
            "quarantine": {"malformed_json": 2}}
    theirs = json.loads(json.dumps(mine))
    theirs["activity"]["2024-03-01"]["dau"] = 2
    theirs["funnel"]["2024-03-02"] = {"sessions": 1}
    theirs["money"] = {"2024-03-01": {"orders": 1, "gross_cents": 1999, "refund_cents": 0, "paying_users": 1}}
    assert compare(mine, theirs) == ["activity 2024-03-01 dau: pipeline 3, reference 2",
                                     "funnel 2024-03-02 sessions: pipeline 0, reference 1",
                                     "money 2024-03-01 orders: pipeline 0, reference 1",
                                     "money 2024-03-01 gross_cents: pipeline 0, reference 1999",
                                     "money 2024-03-01 paying_users: pipeline 0, reference 1"]


def test_core_ratio_is_taken_against_the_references_event_phase():
    runs = [{"engine": "pipeline", "events": 1000, "wall_s": 50.0, "core_s": 20.0},
            {"engine": "duckdb", "events": 1000, "wall_s": 4.0, "phases_s": {"events": 2.5, "money": 1.5}},
            {"engine": "postgres", "events": 1000, "wall_s": 5.0}]
    assert ratios(runs) == [{"events": 1000, "pipeline_over_duckdb": 12.5, "core_over_duckdb": 8.0,
                             "pipeline_over_postgres": 10.0, "core_over_postgres": 4.0}]


def test_a_ratio_just_under_its_target_is_not_rounded_up_to_it():
    runs = [{"engine": "pipeline", "events": 1000, "wall_s": 100.0, "core_s": 69.84, "peak_rss_mb": 900.0},
            {"engine": "postgres", "events": 1000, "wall_s": 120.0, "phases_s": {"events": 100.0, "money": 20.0}}]
    result = {"runs": runs, "ratios": ratios(runs), "growth": growth(runs)}
    judged = {t["target"]: (t["measured"], t["met"]) for t in targets(result)}
    assert judged["pipeline core / postgres < 0.7"] == (0.698, True)
    assert judged["pipeline / postgres < 0.7"] == (0.833, False)


def test_results_are_written_in_the_documented_shape(tmp_path):
    runs = [{"engine": "pipeline", "events": 1000, "wall_s": 50.0, "core_s": 20.0, "peak_rss_mb": 900.0,
             "events_per_s": 20},
            {"engine": "duckdb", "events": 1000, "wall_s": 1.0, "peak_rss_mb": 100.0, "events_per_s": 1000},
            {"engine": "postgres", "events": 1000, "wall_s": 5.0, "peak_rss_mb": 200.0, "events_per_s": 200}]
    one_day = {"events": 1000, "full_s": 60.0, "one_day_s": 30.0, "one_day_share": 0.5}
    result = {"runs": runs, "incremental": one_day, "incremental_by_size": [one_day],
              "machine": {"cores": 2}, "started": "2026-11-25T03:00:00+00:00", "total_s": 1.0}
    paths = write_results(result, tmp_path)
    latest = json.loads((tmp_path / "latest.json").read_text())
    assert {r["engine"] for r in latest["runs"]} == {"pipeline", "duckdb", "postgres"}
    assert all({"engine", "events", "wall_s", "peak_rss_mb"} <= set(r) for r in latest["runs"])
    assert latest["incremental"]["full_s"] == 60.0 and latest["incremental"]["one_day_s"] == 30.0
    assert latest["ratios"] == [{"events": 1000, "pipeline_over_duckdb": 50.0, "core_over_duckdb": 20.0,
                                 "pipeline_over_postgres": 10.0, "core_over_postgres": 4.0}]
    assert latest["growth"] == []  # one size: nothing to grow from
    judged = {t["target"]: t["met"] for t in latest["targets"]}
    assert judged["pipeline / postgres < 0.7"] is False and judged["peak memory < 8 GiB (MiB)"] is True
    assert judged["time grows no faster than events (time ratio / events ratio <= 1)"] is None
    assert all(p.exists() for p in paths) and (tmp_path / "chart.png").read_bytes()[:4] == b"\x89PNG"
    assert latest["complete"] is True
    assert "| 1,000 | 60.0 | 30.0 | 50.0% |" in (tmp_path / "latest.md").read_text()
    assert judged["one new day < 10% of a full rebuild"] is False


def test_a_run_in_progress_keeps_its_sizes_but_leaves_latest_to_the_last_finished_run(tmp_path):
    (tmp_path / "latest.json").write_text('{"runs": [], "complete": true}')
    runs = [{"engine": e, "events": 1000, "wall_s": w, "core_s": w / 2, "peak_rss_mb": 100.0, "events_per_s": 1}
            for e, w in (("pipeline", 50.0), ("duckdb", 1.0), ("postgres", 5.0))]
    result = {"runs": runs, "incremental": None, "machine": {"cores": 2}, "started": "2026-12-03T03:00:00+00:00",
              "total_s": 1.0}
    paths = write_results(result, tmp_path, final=False)
    assert [p.name for p in paths] == ["20261203T030000.json", "20261203T030000.md"]
    partial = json.loads(paths[0].read_text())
    assert partial["complete"] is False and len(partial["runs"]) == 3
    assert paths[1].read_text().startswith("Incomplete:")
    assert json.loads((tmp_path / "latest.json").read_text()) == {"runs": [], "complete": True}
    assert not (tmp_path / "chart.png").exists()


def test_every_engine_starts_from_the_same_warm_page_cache(tmp_path):
    (tmp_path / "events" / "2024-03-01").mkdir(parents=True)
    (tmp_path / "events" / "2024-03-01" / "a.jsonl").write_bytes(b"x" * (3 << 20))
    (tmp_path / "oltp.csv").write_text("id\n1\n")
    assert warm_page_cache(tmp_path) == (3 << 20) + 5  # every byte of every file, nested ones too


def test_postgres_try_functions_survive_a_parallel_plan(db_servers):
    """A PL/pgSQL exception block opens a subtransaction, which a parallel worker cannot: the
    try-functions must be PARALLEL UNSAFE, or a plan the planner may choose fails."""
    pg = db_servers["postgresql"]
    with psycopg.connect(host=pg.host, port=pg.port, user=pg.user, password=pg.password, dbname=pg.database,
                         autocommit=True) as conn:
        conn.execute(SETUP)
        conn.execute("INSERT INTO raw SELECT 'f', CASE WHEN i % 3 = 0 THEN '{not json' ELSE '{\"a\": 1}' END "
                     "FROM generate_series(1, 20000) i")
        conn.execute("ANALYZE raw")
        conn.execute("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0")
        parsed = conn.execute("SELECT count(try_jsonb(value)), count(try_utc(value, true)) FROM raw").fetchone()
        conn.execute("DROP TABLE raw")
    assert parsed == (13334, 0)
