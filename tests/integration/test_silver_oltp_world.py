"""Nightly dumps of the generated world to silver: facts, history and SCD2 dimensions equal
the truth, in order, night by night, out of order, twice or after a kill; a truncated snapshot is
refused."""
import argparse
import collections
import datetime as dt
import json
import logging
import shutil
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import bronze_oltp, silver_oltp
from jobs.common.cli import execute
from jobs.common.io import current_version, read_table, table_path
from schemas.oltp import (DIM_PRODUCTS, DIM_USERS, FACT_ORDER_ITEMS, FACT_ORDERS, FACT_PAYMENTS, OLTP_SNAPSHOTS,
                           ORDER_STATUS_HISTORY)
from schemas.ops import QUARANTINE, TABLE_BUILDS
from tests.conftest import test_config
from tests.integration.world_helpers import SMALL, generate_world, run_jobs, truth_bad_records
from world.model import DAY_MS
from world.simulate import simulate

LAST = SMALL.start_date + dt.timedelta(days=SMALL.days - 1)
SILVER = (DIM_USERS, DIM_PRODUCTS, FACT_ORDERS, FACT_PAYMENTS, ORDER_STATUS_HISTORY)


def ingest(spark, cfg, start=None, end=None):
    outcome = execute(spark, "bronze_oltp", bronze_oltp, cfg, argparse.Namespace(start=start, end=end), "")
    assert outcome.error is None, outcome.error


@pytest.fixture(scope="module")
def in_order(clean_run):
    """The small world's dumps taken in order, once, by the session's clean pipeline run."""
    return clean_run


@pytest.fixture(scope="module")
def world():
    return simulate(SMALL)


def ms(value: dt.datetime) -> int:
    return int(value.replace(tzinfo=dt.timezone.utc).timestamp() * 1000)


def test_fact_orders_hold_every_order_in_its_final_state(spark, in_order, world):
    end = SMALL.start_ms + SMALL.days * DAY_MS
    expected = {str(o.order_id): (o.status_at(end - 1)[0], o.total_cents) for o in world.orders}
    rows = read_table(spark, in_order, FACT_ORDERS).collect()
    assert {r["order_id"]: (r["status"], int(r["total_amount"] * 100)) for r in rows} == expected


def test_fact_payments_total_equals_true_revenue(spark, in_order, world):
    total = read_table(spark, in_order, FACT_PAYMENTS).agg(F.sum("amount")).first()[0]
    assert int(total * 100) == sum(o.total_cents for o in world.orders if o.paid_ms is not None)


def test_order_status_history_has_every_transition_seen_at_a_snapshot(spark, in_order, world):
    seen = set()
    for o in world.orders:
        for day in range(SMALL.days):
            state = o.status_at(SMALL.start_ms + (day + 1) * DAY_MS - 1)
            if state:
                seen.add((str(o.order_id), state[0], state[1]))
    rows = read_table(spark, in_order, ORDER_STATUS_HISTORY).collect()
    assert {(r["order_id"], r["status"], ms(r["changed_at"])) for r in rows} == seen


def true_user_history(world):
    """What nightly snapshots can see: the version current at each day's end, and deletions."""
    history = set()
    for user in world.users:
        previous = None
        for day in range(SMALL.days):
            end = SMALL.start_ms + (day + 1) * DAY_MS
            version = user.version_at(end - 1)
            if version is None and previous is not None:
                history.add((str(user.user_id), end, None, None, True))
            elif version is not None and version is not previous:
                start = max(user.created_ms, version.valid_from_ms)
                history.add((str(user.user_id), start, version.country, version.marketing_consent, False))
            previous = version
    return history


def test_dim_users_history_equals_the_true_changes_including_deletes(spark, in_order, world):
    rows = read_table(spark, in_order, DIM_USERS).collect()
    actual = {(r["user_id"], ms(r["valid_from"]), r["country"], r["marketing_consent"], r["is_deleted"]) for r in rows}
    truth = true_user_history(world)
    assert actual == truth
    assert any(r["is_deleted"] for r in rows)  # this world deletes a user (seed chosen so)
    assert all(len(r["email_hash"]) == 64 for r in rows if not r["is_deleted"])


def test_dim_products_open_a_version_per_price_change(spark, in_order, world):
    rows = read_table(spark, in_order, DIM_PRODUCTS).collect()
    expected = 0
    for product in world.products:  # the prices nightly snapshots can see: a change on day 0 hides the old one
        seen = [product.price_at(SMALL.start_ms + (day + 1) * DAY_MS - 1)[0] for day in range(SMALL.days)]
        expected += 1 + sum(1 for before, after in zip(seen, seen[1:]) if before != after)
    assert len(rows) == expected
    assert sum(r["is_current"] for r in rows) == len(world.products)


def test_quarantine_holds_the_junk_dump_rows(spark, in_order):
    expected = collections.Counter((b["source"], b["reason"]) for table in ("users", "orders", "order_items", "payments")
                                   for b in truth_bad_records(in_order, f"oltp/{table}"))
    rows = read_table(spark, in_order, QUARANTINE).where(F.col("source").startswith("oltp/")).collect()
    assert collections.Counter((r["source"], r["reason"]) for r in rows) == expected


def test_snapshots_late_repeated_nightly_or_rerun_after_a_kill_give_the_same_tables(spark, in_order, tmp_path,
                                                                                    caplog):
    """A newer snapshot extends the dimensions; a late or repeated one rebuilds them. Either
    way, and after a run killed between its MERGEs and its ledger rows, the tables equal
    those of one run over every snapshot in order."""
    cfg = test_config(tmp_path)
    generate_world(cfg)
    caplog.set_level(logging.INFO, logger="jobs.silver_oltp")
    first, second, third = (SMALL.start_date + dt.timedelta(days=n) for n in range(3))
    for start, end in ((second, second), (third, third), (None, None), (first, first), (LAST, LAST), (second, second)):
        if start is None:  # the last run, killed after its MERGEs: drop its ledger rows and rerun
            builds = table_path(cfg, TABLE_BUILDS)
            spark.sql(f"DELETE FROM delta.`{builds}` WHERE source_version = {current_version(spark, cfg, OLTP_SNAPSHOTS)}")
        else:
            ingest(spark, cfg, start, end)
        run_jobs(spark, cfg, "silver_oltp")
    messages = [r.getMessage() for r in caplog.records]
    assert sum("adding the snapshots of" in m for m in messages) == 6  # both dimensions: third, its rerun, LAST
    assert sum("rebuilding the history" in m for m in messages) == 6   # the first build, late first, repeated second
    for spec in SILVER:
        assert_df_equality(read_table(spark, cfg, spec), read_table(spark, in_order, spec), ignore_row_order=True)
    # each build row names the version of its own table (the facts' row once named the last write's)
    builds = read_table(spark, cfg, TABLE_BUILDS).where(F.col("source") == OLTP_SNAPSHOTS.full_name)
    last = {r["target"]: r["target_version"] for r in builds.orderBy("built_ts").collect()}
    for spec in (FACT_ORDERS, DIM_USERS, DIM_PRODUCTS):
        assert last[spec.full_name] == current_version(spark, cfg, spec), spec.full_name


def test_truncated_snapshot_is_refused_and_changes_nothing(spark, tmp_path):
    cfg = test_config(tmp_path)
    generate_world(cfg)
    run_jobs(spark, cfg, "bronze_oltp", "silver_oltp")
    versions = {spec.full_name: current_version(spark, cfg, spec) for spec in SILVER}
    next_day = (LAST + dt.timedelta(days=1)).isoformat()
    landing = Path(cfg.paths.landing) / "oltp"
    for table in ("users", "products", "orders", "order_items", "payments"):
        shutil.copytree(landing / table / LAST.isoformat(), landing / table / next_day)
    users = landing / "users" / next_day / "users.csv"
    lines = users.read_text().split("\n")
    users.write_text("\n".join(lines[: len(lines) // 3]) + "\n")  # a dump cut short
    run_jobs(spark, cfg, "bronze_oltp")
    outcome = execute(spark, "silver_oltp", silver_oltp, cfg, argparse.Namespace(start=None, end=None), "")
    assert outcome.error and f"the users snapshot of {next_day} lacks" in outcome.error
    assert "looks truncated" in outcome.error
    assert {spec.full_name: current_version(spark, cfg, spec) for spec in SILVER} == versions


def test_product_names_with_quotes_commas_and_newlines_survive_the_csv_dumps(spark, in_order, world):
    rows = read_table(spark, in_order, DIM_PRODUCTS).where(F.col("is_current")).collect()
    assert {r["product_id"]: r["name"] for r in rows} == {str(p.product_id): p.name for p in world.products}
    assert any("\n" in p.name or '"' in p.name or "," in p.name for p in world.products)


def test_parquet_dumps_give_the_same_facts_and_dimensions_as_csv(spark, in_order, tmp_path):
    from world.writer import generate
    cfg = test_config(tmp_path, "oltp.dump_format=parquet")
    generate(SMALL, Path(cfg.paths.landing), Path(cfg.paths.truth), ("parquet",))
    run_jobs(spark, cfg, "bronze_oltp", "silver_oltp")
    for spec in SILVER:
        assert_df_equality(read_table(spark, cfg, spec), read_table(spark, in_order, spec), ignore_row_order=True)


def test_nights_take_only_changed_keys_yet_mend_last_nights_orphans_and_duplicates(spark, in_order, oltp_nights):
    """Night by night, silver_oltp types only the keys whose dump rows changed. On the first
    night one order's total does not parse and another order comes on two disagreeing rows,
    so both are rejected and their lines and payments with them, as orphans. The next night
    both orders are clean while their lines and payments are the same as before: the lines
    and payments are taken then, because their orders changed. The facts and dimensions end
    as in one clean run over every dump, and the later nights quarantine the same junk."""
    cfg, broken, doubled, messages = oltp_nights
    first = SMALL.start_date.isoformat()
    assert sum("only the rows of keys that changed" in m for m in messages) == 5 * (SMALL.days - 1)
    for spec in (DIM_USERS, DIM_PRODUCTS, FACT_ORDERS, FACT_ORDER_ITEMS, FACT_PAYMENTS):
        assert_df_equality(read_table(spark, cfg, spec), read_table(spark, in_order, spec), ignore_row_order=True)
    quarantined = read_table(spark, cfg, QUARANTINE).where(F.col("source").startswith("oltp/"))
    mine = collections.Counter((r["source"], r["reason"]) for r in quarantined.where(~F.col("source_file").contains(first))
                               .collect())
    clean = read_table(spark, in_order, QUARANTINE).where(F.col("source").startswith("oltp/") &
                                                          ~F.col("source_file").contains(first))
    assert mine == collections.Counter((r["source"], r["reason"]) for r in clean.collect())
    damaged = quarantined.where(F.col("source") == "oltp/orders").where(F.col("source_file").contains(first))
    assert sorted((json.loads(r["raw"])["order_id"], r["reason"]) for r in damaged.collect()
                  if json.loads(r["raw"])["order_id"] in (broken, doubled)) == \
        sorted([(broken, "unparseable_number"), (doubled, "duplicate_key"), (doubled, "duplicate_key")])
