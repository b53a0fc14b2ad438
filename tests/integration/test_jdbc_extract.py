"""JDBC extracts from real PostgreSQL and MariaDB servers give the same silver tables as the
dump path; a wrong password, an unreachable server or a missing table fail in one line and
change nothing."""
import argparse
import datetime as dt

import pytest
from chispa import assert_df_equality

from jobs import bronze_jdbc
from jobs.common.cli import execute
from jobs.common.io import current_version, read_table
from schemas.oltp import DIM_PRODUCTS, DIM_USERS, FACT_ORDER_ITEMS, FACT_ORDERS, FACT_PAYMENTS, OLTP_SNAPSHOTS
from tests.conftest import test_config
from tests.dbservers import connect
from tests.integration.world_helpers import SMALL, run_jobs
from world.dbload import load_as_of
from world.simulate import simulate

SILVER = (DIM_USERS, DIM_PRODUCTS, FACT_ORDERS, FACT_ORDER_ITEMS, FACT_PAYMENTS)
PASSWORD_ENV = "OLTP_TEST_PASSWORD"


def jdbc_config(root, server, url=None, user=None):
    return test_config(root, f"oltp.jdbc.url={url or server.jdbc_url}", f"oltp.jdbc.user={user or server.user}",
                       f"oltp.jdbc.password_env={PASSWORD_ENV}", "oltp.jdbc.partitions=3")


def extract(spark, cfg, day):
    return execute(spark, "bronze_jdbc", bronze_jdbc, cfg, argparse.Namespace(start=day, end=day), "")


@pytest.fixture(scope="module")
def dump_path(clean_run):
    """The small world's dumps through bronze_oltp and silver_oltp: the session's clean run."""
    return clean_run


@pytest.mark.parametrize("kind,silver", [("postgresql", "nightly"), ("mariadb", "once")])
def test_jdbc_extracts_day_by_day_equal_the_dump_path(spark, db_servers, dump_path, kind, silver, tmp_path,
                                                      monkeypatch):
    """Extracted night by night; silver_oltp either after every extract (extending the history
    with each incremental snapshot) or once after the last (building it from all of them)."""
    server = db_servers[kind]
    monkeypatch.setenv(PASSWORD_ENV, server.password)
    cfg = jdbc_config(tmp_path, server)
    world = simulate(SMALL)
    for day in range(SMALL.days):
        with connect(server) as conn:
            load_as_of(world, day, conn, kind)
        outcome = extract(spark, cfg, SMALL.start_date + dt.timedelta(days=day))
        assert outcome.error is None, outcome.error
        if silver == "nightly" or day == SMALL.days - 1:
            run_jobs(spark, cfg, "silver_oltp")
    for spec in SILVER:
        assert_df_equality(read_table(spark, cfg, spec), read_table(spark, dump_path, spec), ignore_row_order=True)


def test_incremental_extract_reads_only_changed_rows(spark, db_servers, tmp_path, monkeypatch):
    server = db_servers["postgresql"]
    monkeypatch.setenv(PASSWORD_ENV, server.password)
    cfg = jdbc_config(tmp_path, server)
    world = simulate(SMALL)
    with connect(server) as conn:
        load_as_of(world, SMALL.days - 1, conn, "postgresql")
    day = SMALL.start_date + dt.timedelta(days=SMALL.days - 1)
    assert extract(spark, cfg, day).error is None
    run_jobs(spark, cfg, "silver_oltp")
    assert extract(spark, cfg, day).error is None  # nothing changed: only the boundary rows again
    rows = {r["source_table"]: r["count"] for r in read_table(spark, cfg, OLTP_SNAPSHOTS)
            .groupBy("source_table").count().collect()}
    assert rows["orders"] < len(world.orders) / 10 and rows["users"] > 0


@pytest.mark.parametrize("problem", ["password", "unreachable", "missing_table"])
def test_extract_failures_are_one_line_and_change_nothing(spark, db_servers, tmp_path, monkeypatch, problem):
    server = db_servers["postgresql"]
    monkeypatch.setenv(PASSWORD_ENV, "wrong" if problem == "password" else server.password)
    url = {"unreachable": f"jdbc:postgresql://127.0.0.1:{_closed_port()}/shop",
           "missing_table": f"jdbc:postgresql://{server.host}:{server.port}/postgres"}.get(problem)
    cfg = jdbc_config(tmp_path, server, url=url)
    outcome = extract(spark, cfg, dt.date(2024, 3, 1))
    assert outcome.error is not None and "\n" not in outcome.error
    assert outcome.error.startswith("cannot read table users (users) from jdbc:postgresql://")
    expected = {"password": "password authentication failed", "unreachable": "Connection", "missing_table":
                "does not exist"}[problem]
    assert expected in outcome.error
    assert current_version(spark, cfg, OLTP_SNAPSHOTS) is None


def _closed_port():
    from tests.dbservers import free_port
    return free_port()
