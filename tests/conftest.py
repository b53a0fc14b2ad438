"""One SparkSession for the whole test process, built by the same factory as the jobs."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from jobs.common.config import PROJECT_ROOT, JobConfig, load_config, paths_under
from jobs.common.session import build_session, sql_settings
from schemas.events import EVENTS

os.environ.setdefault("LAKEHOUSE_PSEUDONYM_KEY", "test-pseudonym-key")

SHARED_DATASETS = Path(os.environ.get("LAKEHOUSE_SHARED_DATASETS", PROJECT_ROOT.parent / "shared" / "datasets"))


def test_config(root: Path, *overrides: str) -> JobConfig:
    """The test environment with every path under `root`."""
    return load_config("test", paths_under(root) + list(overrides))


test_config.__test__ = False  # a helper, not a test


def generated_code(spark):
    """Spark's whole-stage and expression code generation on for the block, as in every
    environment but this one: conf/test.yaml turns them off, since on tiny data compiling code
    costs more than running it."""
    return sql_settings(spark, {"spark.sql.codegen.wholeStage": "true", "spark.sql.codegen.factoryMode": "FALLBACK"})


def silver_events(spark, *rows: dict):
    """silver.events rows from the columns a test cares about (the others null, or a constant
    where the contract wants a value)."""
    constant = {"event_date": dt.date(2024, 3, 1), "_source_file": "file:/landing/events/events.jsonl",
                "_ingested_at": dt.datetime(2024, 3, 2), "_batch_id": "b0"}
    return spark.createDataFrame([tuple({**constant, **row}.get(c) for c in EVENTS.columns) for row in rows],
                                 EVENTS.schema)


def session_event(device: str, event_id: str, at: dt.datetime, event_type: str, page_path: str | None = None,
                  user_id: int | None = None) -> dict:
    """The columns of one silver_events row that sessions are built from."""
    return {"anonymous_id": device, "event_id": event_id, "event_ts": at, "event_date": at.date(),
            "event_type": event_type, "page_path": page_path, "user_id": user_id}


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    session = build_session("tests", test_config(tmp_path_factory.mktemp("session")))
    yield session
    session.stop()


@pytest.fixture
def cfg(tmp_path) -> JobConfig:
    return test_config(tmp_path)


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"real datasets not found at {SHARED_DATASETS}: they live beside the project in "
                    "../shared/datasets (CI has them; set LAKEHOUSE_SHARED_DATASETS to point elsewhere)")
    return SHARED_DATASETS
