"""Each table a job hashes into keeps its key's fingerprint; a run with another key is refused
before it writes, and a table from before fingerprints were kept is marked by its next run."""
import argparse
from pathlib import Path

from delta.tables import DeltaTable

from jobs.common.cli import execute, load_job
from jobs.common.delta_log import latest_version, table_property
from jobs.common.io import read_table, set_table_property, table_path
from jobs.common.secrets import FINGERPRINT_PROPERTY, key_fingerprint
from schemas.events import EVENTS
from schemas.oltp import DIM_USERS
from schemas.web import PAGE_VIEWS
from tests.integration.world_helpers import run_jobs

LINE = ('{{"event_id":"{id}","event_type":"page_view","event_ts":"2024-03-01T05:00:00.000Z","anonymous_id":"a",'
        '"context":{{"ip":"10.0.0.{n}"}},"properties":{{}}}}')


def land(cfg, name: str, ids: range) -> None:
    folder = Path(cfg.paths.landing) / "events" / "2024-03-01"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(LINE.format(id=f"e{n}", n=n) + "\n" for n in ids))


def operations(spark, cfg, spec) -> list[str]:
    history = DeltaTable.forPath(spark, table_path(cfg, spec)).history().orderBy("version")
    return [row["operation"] for row in history.collect()]


def test_a_run_with_another_key_is_refused_and_writes_nothing(spark, cfg, monkeypatch):
    key_env = cfg.secrets.pseudonym_key_env
    land(cfg, "events_2024-03-01T05.jsonl", range(3))
    run_jobs(spark, cfg, "bronze_events", "silver_events")
    path = table_path(cfg, EVENTS)
    fingerprint = key_fingerprint(cfg.secret(key_env))
    assert table_property(spark, path, FINGERPRINT_PROPERTY) == fingerprint
    assert "SET TBLPROPERTIES" not in operations(spark, cfg, EVENTS)  # a new table is created with it
    version = latest_version(spark, path)

    land(cfg, "events_2024-03-01T06.jsonl", range(3, 5))
    run_jobs(spark, cfg, "bronze_events")
    monkeypatch.setenv(key_env, "a-rotated-key")
    outcome = execute(spark, "silver_events", load_job("silver_events"), cfg,
                      argparse.Namespace(start=None, end=None), "")

    assert outcome.error is not None
    assert "silver.events holds values hashed with another pseudonym key" in outcome.error
    assert f"key fingerprint {fingerprint}" in outcome.error and key_fingerprint("a-rotated-key") in outcome.error
    assert "a-rotated-key" not in outcome.error  # the key itself is never printed
    assert latest_version(spark, path) == version
    assert read_table(spark, cfg, EVENTS).count() == 3

    monkeypatch.undo()  # the right key again: the refused run's lines are taken now, none lost
    run_jobs(spark, cfg, "silver_events")
    assert read_table(spark, cfg, EVENTS).count() == 5
    assert read_table(spark, cfg, EVENTS).select("ip_hash").distinct().count() == 5


def test_a_table_without_a_fingerprint_is_marked_by_its_next_run(spark, cfg):
    land(cfg, "events_2024-03-01T05.jsonl", range(2))
    run_jobs(spark, cfg, "bronze_events", "silver_events")
    path = table_path(cfg, EVENTS)
    set_table_property(spark, path, FINGERPRINT_PROPERTY, None)  # as built before
    assert table_property(spark, path, FINGERPRINT_PROPERTY) is None

    land(cfg, "events_2024-03-01T06.jsonl", range(2, 4))
    run_jobs(spark, cfg, "bronze_events", "silver_events")

    assert table_property(spark, path, FINGERPRINT_PROPERTY) == key_fingerprint(cfg.secret(cfg.secrets.pseudonym_key_env))
    assert read_table(spark, cfg, EVENTS).count() == 4


def test_every_table_holding_hashes_carries_the_fingerprint_after_a_pipeline_run(spark, clean_run):
    fingerprint = key_fingerprint(clean_run.secret(clean_run.secrets.pseudonym_key_env))
    for spec in (EVENTS, PAGE_VIEWS, DIM_USERS):
        assert table_property(spark, table_path(clean_run, spec), FINGERPRINT_PROPERTY) == fingerprint, spec.full_name
