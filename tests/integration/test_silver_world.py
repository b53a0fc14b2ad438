"""On a generated world, silver holds exactly the clean truth and quarantine exactly the dirt:
the session's clean run, which received the world in two deliveries."""
import collections
import datetime as dt
import json
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import functions as F

from jobs.common.io import read_table, table_path
from schemas.events import EVENTS, SESSIONS
from schemas.ops import JOB_RUNS, QUARANTINE
from schemas.web import PAGE_VIEWS
from tests.integration.world_helpers import (file_statistics, relative_to_landing, run_jobs, truth_bad_records,
                                             truth_csv)

PIPELINE = ("bronze_events", "bronze_access_logs", "silver_events", "silver_sessions", "silver_page_views")


def test_silver_events_hold_exactly_the_clean_events_in_their_true_dates(spark, clean_run):
    cfg = clean_run
    truth = {(r["event_id"], dt.datetime.fromtimestamp(int(r["event_ts_ms"]) / 1000, tz=dt.timezone.utc).date())
             for r in truth_csv(cfg, "events.csv")}
    rows = read_table(spark, cfg, EVENTS).select("event_id", "event_date").collect()
    assert len(rows) == len(truth)  # no duplicates
    assert {(r["event_id"], r["event_date"]) for r in rows} == truth


def test_silver_events_timestamps_equal_the_true_instants(spark, clean_run):
    cfg = clean_run
    truth = {r["event_id"]: int(r["event_ts_ms"]) for r in truth_csv(cfg, "events.csv")}
    rows = read_table(spark, cfg, EVENTS).select("event_id", (F.unix_millis("event_ts")).alias("ms")).collect()
    assert {r["event_id"]: r["ms"] for r in rows} == truth


def test_quarantine_holds_exactly_the_injected_bad_event_lines(spark, clean_run):
    cfg = clean_run
    expected = collections.Counter((b["file"], b["raw"], b["reason"]) for b in truth_bad_records(cfg, "events"))
    rows = read_table(spark, cfg, QUARANTINE).where(F.col("source") == "events").collect()
    actual = collections.Counter((relative_to_landing(r["source_file"]), r["raw"], r["reason"]) for r in rows)
    assert actual == expected


def test_page_views_hold_every_valid_request_and_quarantine_the_junk_lines(spark, clean_run):
    cfg = clean_run

    manifest = json.loads((Path(cfg.paths.truth) / "world.json").read_text())
    page_views = read_table(spark, cfg, PAGE_VIEWS)
    assert page_views.count() == manifest["counts"]["web_requests"]
    expected = collections.Counter((b["file"], b["raw"], b["reason"]) for b in truth_bad_records(cfg, "access_logs"))
    rows = read_table(spark, cfg, QUARANTINE).where(F.col("source") == "access_logs").collect()
    assert collections.Counter((relative_to_landing(r["source_file"]), r["raw"], r["reason"]) for r in rows) == expected


def test_page_views_flag_bots_static_assets_and_pages_like_the_truth(spark, clean_run):
    cfg = clean_run
    truth = {r["business_date"]: r for r in truth_csv(cfg, "UTC/web_traffic_daily.csv")}
    daily = (read_table(spark, cfg, PAGE_VIEWS)
             .groupBy("request_date")
             .agg(F.count(F.lit(1)).alias("requests"), F.sum(F.col("is_page_view").cast("int")).alias("page_views"),
                  F.sum(F.col("is_bot").cast("int")).alias("bots"), F.countDistinct("host_hash").alias("hosts"))
             .collect())
    for row in daily:
        expected = truth[row["request_date"].isoformat()]
        assert row["requests"] == int(expected["requests"])
        assert row["page_views"] == int(expected["page_views"])
        assert row["hosts"] == int(expected["distinct_hosts"])
        assert abs(row["bots"] / row["requests"] - float(expected["bot_share"])) < 1e-12
    assert len(daily) == len(truth)


def test_silver_events_keep_the_drifted_field_and_hash_pii(spark, clean_run):
    cfg = clean_run
    events = read_table(spark, cfg, EVENTS)
    assert events.where(F.col("_rescued")["app_version"] == "5.3.0").count() > 0
    assert "ip" not in events.columns and "email" not in events.columns
    assert events.where(F.col("ip_hash").rlike("^[0-9a-f]{64}$")).count() == events.count()


def test_sessions_match_the_true_sessions(spark, clean_run):
    cfg = clean_run
    truth = collections.defaultdict(list)
    for row in truth_csv(cfg, "events.csv"):
        truth[row["session_id"]].append(row)
    expected = set()
    for events in truth.values():
        users = [e["user_id"] for e in sorted(events, key=lambda e: int(e["event_ts_ms"])) if e["user_id"]]
        start = min(int(e["event_ts_ms"]) for e in events)
        expected.add((events[0]["anonymous_id"], start, int(users[0]) if users else None, len(events)))
    sessions = read_table(spark, cfg, SESSIONS).select(
        "anonymous_id", F.unix_millis("started_ts").alias("start"), "user_id", "event_count").collect()
    assert {tuple(r) for r in sessions} == expected


def test_every_run_is_recorded_with_rows_and_quarantine_reasons(spark, clean_run):
    cfg = clean_run
    runs = read_table(spark, cfg, JOB_RUNS).where(F.col("status") == "succeeded").collect()
    assert set(PIPELINE) <= {r["job"] for r in runs}
    silver = [r for r in runs if r["job"] == "silver_events" and r["rows_written"].get("silver.events")]
    assert len(silver) == 2  # one per delivery batch; a later run with nothing new writes nothing
    quarantined, written = collections.Counter(), 0
    for run in silver:
        quarantined.update(run["rows_quarantined"])
        written += run["rows_written"]["silver.events"]
        assert run["duration_ms"] > 0
        assert "silver.events" in run["table_versions"]
        assert ("ops.quarantine" in run["table_versions"]) == bool(run["rows_quarantined"])
    assert quarantined == collections.Counter(b["reason"] for b in truth_bad_records(cfg, "events"))
    assert written == len(truth_csv(cfg, "events.csv"))


def test_rerun_with_no_new_input_writes_nothing(spark, clean_run):
    cfg = clean_run
    before = {spec.full_name: read_table(spark, cfg, spec).count() for spec in (EVENTS, SESSIONS, QUARANTINE,
                                                                                PAGE_VIEWS)}
    outcomes = run_jobs(spark, cfg, *PIPELINE)
    assert all(not o.stats.commits for o in outcomes)
    after = {spec.full_name: read_table(spark, cfg, spec).count() for spec in (EVENTS, SESSIONS, QUARANTINE,
                                                                               PAGE_VIEWS)}
    assert after == before


def test_every_table_reads_the_same_with_a_reader_that_is_not_spark(spark, clean_run):
    from deltalake import DeltaTable as RustDeltaTable

    from jobs.common.io import table_exists, table_path
    from schemas.tables import ALL_TABLES
    cfg = clean_run
    compared = 0
    for spec in ALL_TABLES:
        if table_exists(spark, cfg, spec):
            rows = RustDeltaTable(table_path(cfg, spec)).to_pyarrow_table().num_rows
            assert rows == read_table(spark, cfg, spec).count(), spec.full_name
            compared += 1
    assert compared >= 8


def test_wide_silver_tables_keep_statistics_of_their_named_columns_only_from_their_creation(spark, clean_run):
    for spec in (EVENTS, SESSIONS, PAGE_VIEWS):
        history = DeltaTable.forPath(spark, table_path(clean_run, spec)).history().collect()
        assert "SET TBLPROPERTIES" not in {row["operation"] for row in history}, spec.full_name
        stats = file_statistics(clean_run, spec)
        assert stats and all(s["numRecords"] > 0 and set(s["nullCount"]) == set(spec.stats_columns) for s in stats)
