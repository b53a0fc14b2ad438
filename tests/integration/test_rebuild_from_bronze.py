"""rebuild_from_bronze drops silver and gold and builds them again from bronze: without --yes
it changes nothing; a drop left half done stops every other job until a rebuild finishes it;
and a rebuild under a new pseudonym key gives the session's clean run's tables, but for the
keyed hashes, which are the new key's."""
import argparse
import datetime as dt
import shutil
from pathlib import Path

from pyspark.sql import functions as F

from jobs.common.cli import execute, load_job
from jobs.common.delta_log import latest_version, table_property
from jobs.common.drop import BRONZE_TABLES, PENDING_MARKER, aside_of
from jobs.common.io import read_table, table_exists, table_path
from jobs.common.secrets import FINGERPRINT_PROPERTY, key_fingerprint
from schemas.events import EVENTS
from schemas.oltp import DIM_USERS
from schemas.ops import GOLD_BUILDS, JOB_RUNS, TABLE_BUILDS
from schemas.tables import ALL_TABLES
from schemas.web import PAGE_VIEWS
from tests.conftest import test_config
from tests.integration.compare import assert_same_tables


def copy_of(clean_run, root: Path):
    """A warehouse of its own holding the clean run's tables and checkpoints."""
    cfg = test_config(root)
    for name in ("warehouse", "checkpoints"):
        shutil.copytree(getattr(clean_run.paths, name), getattr(cfg.paths, name))
    return cfg


def rebuild(spark, cfg, yes: bool):
    return execute(spark, "rebuild_from_bronze", load_job("rebuild_from_bronze"), cfg,
                   argparse.Namespace(start=None, end=None, yes=yes), "--yes" if yes else "")


def versions(spark, cfg, specs) -> dict[str, int]:
    return {spec.full_name: latest_version(spark, table_path(cfg, spec))
            for spec in specs if table_exists(spark, cfg, spec)}


def test_without_yes_it_lists_what_it_would_drop_and_changes_nothing(spark, clean_run, tmp_path, capsys):
    cfg = copy_of(clean_run, tmp_path)
    kept = [spec for spec in ALL_TABLES if spec != JOB_RUNS]  # which records the run itself
    before = versions(spark, cfg, kept)

    outcome = rebuild(spark, cfg, yes=False)

    assert outcome.error is None
    printed = capsys.readouterr().out
    assert "Would drop these silver and gold tables:" in printed
    for name in ("silver.events", "silver.dim_users", "gold.daily_kpis", "rows of ops.gold_builds"):
        assert name in printed
    assert "Nothing was changed" in printed
    assert versions(spark, cfg, kept) == before
    assert (Path(cfg.paths.checkpoints) / "silver").is_dir()


def test_a_rebuild_under_a_new_key_finishes_a_half_done_drop_and_equals_the_clean_run(spark, clean_run, tmp_path,
                                                                                       monkeypatch):
    cfg = copy_of(clean_run, tmp_path)
    bronze = versions(spark, cfg, BRONZE_TABLES)
    warehouse = Path(cfg.paths.warehouse)
    # what a drop killed half-way leaves: its marker, and a table's folder moved aside
    (warehouse / PENDING_MARKER).touch()
    sessions = warehouse / "silver" / "sessions"
    sessions.rename(aside_of(str(sessions)))

    refused = execute(spark, "gold_funnel", load_job("gold_funnel"), cfg, argparse.Namespace(start=None, end=None), "")
    assert refused.error is not None and "run `rebuild_from_bronze --yes` again" in refused.error

    key_env = cfg.secrets.pseudonym_key_env
    monkeypatch.setenv(key_env, "a-rotated-key")
    began = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    outcome = rebuild(spark, cfg, yes=True)

    assert outcome.error is None, outcome.error
    assert not (warehouse / PENDING_MARKER).exists()
    assert not Path(aside_of(str(sessions))).exists() and sessions.is_dir()
    assert versions(spark, cfg, BRONZE_TABLES) == bronze
    for spec in (EVENTS, PAGE_VIEWS, DIM_USERS):
        assert table_property(spark, table_path(cfg, spec), FINGERPRINT_PROPERTY) == key_fingerprint("a-rotated-key")
    assert_same_tables(spark, cfg, clean_run, without_hashes=True)  # ops.quarantine too: nothing in it twice
    new_ips = read_table(spark, cfg, EVENTS).select("ip_hash").where(F.col("ip_hash").isNotNull())
    assert new_ips.count() > 0
    assert new_ips.intersect(read_table(spark, clean_run, EVENTS).select("ip_hash")).count() == 0
    for ledger in (TABLE_BUILDS, GOLD_BUILDS):  # every ledger row is the rebuild's: none left from before
        assert read_table(spark, cfg, ledger).where(F.col("built_ts") < began).count() == 0
        assert read_table(spark, cfg, ledger).count() > 0
