"""The sample world loaded into real PostgreSQL and MariaDB servers as of any day, and read
back through Spark's JDBC source with the pinned drivers."""
import collections
import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from tests.dbservers import connect
from tests.integration.world_helpers import SMALL
from world.dbload import load_as_of
from world.render_dumps import COLUMNS
from world.simulate import simulate
from world.writer import generate

DRIVERS = {"postgresql": "org.postgresql.Driver", "mariadb": "org.mariadb.jdbc.Driver"}


@pytest.fixture(scope="module")
def servers(db_servers):
    return db_servers


@pytest.fixture(scope="module")
def world():
    return simulate(SMALL)


def dump_rows(landing: Path, table: str, day: int) -> int:
    date = (SMALL.start_date + dt.timedelta(days=day)).isoformat()
    with (landing / "oltp" / table / date / f"{table}.csv").open(newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def junk_rows(truth: Path, day: int) -> collections.Counter:
    """Junk rows the dumps of that day carry (a database with typed columns holds none)."""
    folder = f"/{(SMALL.start_date + dt.timedelta(days=day)).isoformat()}/"
    records = map(json.loads, (truth / "bad_records.jsonl").read_text().splitlines())
    return collections.Counter(r["source"].split("/")[1] for r in records
                               if r["source"].startswith("oltp/") and folder in r["file"])


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_load_as_of_matches_the_dump_of_that_day(servers, world, kind, tmp_path):
    generate(SMALL, tmp_path / "landing", tmp_path / "truth", ("csv",))
    junk = junk_rows(tmp_path / "truth", 1)
    with connect(servers[kind]) as conn:
        counts = load_as_of(world, 1, conn, kind)
        for table, n in counts.items():
            assert n == dump_rows(tmp_path / "landing", table, 1) - junk[table], table
        with conn.cursor() as cursor:
            cursor.execute("SELECT sum(amount) FROM payments")
            total = cursor.fetchone()[0]
    expected = sum(o.total_cents for o in world.orders
                   if o.paid_ms is not None and o.paid_ms < SMALL.start_ms + 2 * 86_400_000)
    assert Decimal(total) == Decimal(expected) / 100


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_reloading_a_later_day_moves_the_database_forward(servers, world, kind):
    with connect(servers[kind]) as conn:
        first = load_as_of(world, 0, conn, kind)
        last = load_as_of(world, SMALL.days - 1, conn, kind)
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM orders")
            assert cursor.fetchone()[0] == last["orders"]
    assert last["orders"] > first["orders"]


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_spark_reads_the_loaded_tables_through_the_pinned_jdbc_driver(spark, servers, world, kind):
    server = servers[kind]
    with connect(server) as conn:
        counts = load_as_of(world, SMALL.days - 1, conn, kind)
    products = (spark.read.format("jdbc").option("url", server.jdbc_url).option("driver", DRIVERS[kind])
                .option("dbtable", "products").option("user", server.user).option("password", server.password)
                .load())
    assert products.count() == counts["products"]
    assert {f.name for f in products.schema.fields} == set(COLUMNS["products"])


def test_wrong_password_is_refused_by_the_real_server(servers):
    server = servers["postgresql"]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(host=server.host, port=server.port, user=server.user, password="wrong",
                        dbname=server.database)
