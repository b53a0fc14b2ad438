import csv
import datetime as dt
import logging
import shutil
from pathlib import Path

import pytest

from tests import dbservers
from tests.conftest import test_config
from tests.integration.world_helpers import SMALL, generate_world, run_jobs, run_pipeline
from world.delivery import deliver, delivery_days


@pytest.fixture(scope="session")
def db_servers(tmp_path_factory):
    """A real PostgreSQL and a real MariaDB server for the whole test process."""
    with dbservers.postgres() as pg, dbservers.mariadb(tmp_path_factory.mktemp("mariadb")) as maria:
        yield {"postgresql": pg, "mariadb": maria}


@pytest.fixture(scope="session")
def clean_run(spark, tmp_path_factory):
    """The small world delivered as a schedule that fell behind sees it, and built by every
    pipeline step in this process in local mode: the first day in one run, then the other
    days and the late events after them in a second, so every incremental path (sessions
    across a run's edge, late events for dates already built, gold recomputing touched dates,
    SCD2 dimensions extended) runs. Gold tests compare it with the truth; killed, cluster and
    benchmark runs compare their one backfill with it, so each of them also shows that a
    backfill gives what incremental runs give. (The second day once had a run of its own: the
    same incremental path as the second run's, on one day instead of several, for about 50 s.)"""
    root = tmp_path_factory.mktemp("clean")
    cfg, source = test_config(root / "daily"), test_config(root / "source")
    generate_world(source)
    days = delivery_days(Path(source.paths.landing))
    assert len(days) > SMALL.days  # late events keep arriving after the world's last day
    for batch in (days[:1], days[1:]):
        for day in batch:
            deliver(Path(source.paths.landing), Path(cfg.paths.landing), day)
        run_pipeline(spark, cfg, batch[0], batch[-1])
    shutil.copytree(source.paths.truth, cfg.paths.truth)
    return cfg


def rewrite_csv(path: Path, change) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([rows[0], *change(rows[0], rows[1:])])


class _Messages(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture(scope="session")
def oltp_nights(spark, tmp_path_factory):
    """The small world's dumps taken night by night, one date a run of bronze_oltp and
    silver_oltp, after damaging the first night's orders: one order's total does not parse and
    another order comes on two disagreeing rows (both are clean from the second night on).
    (cfg, the broken order id, the doubled order id, silver_oltp's log messages)."""
    cfg = test_config(tmp_path_factory.mktemp("oltp_nights"))
    generate_world(cfg)
    landing = Path(cfg.paths.landing) / "oltp"
    first = SMALL.start_date.isoformat()
    lines = (landing / "order_items" / first / "order_items.csv").read_text().splitlines()[1:]
    broken, doubled = sorted({line.split(",")[0] for line in lines})[:2]

    def damage(header, rows):
        total, status = header.index("total_amount"), header.index("status")
        for row in rows:
            if row[0] == broken:
                row[total] = "12,34"
            yield row
            if row[0] == doubled:
                yield [*row[:status], "disputed", *row[status + 1:]]

    rewrite_csv(landing / "orders" / first / "orders.csv", damage)
    handler, logger = _Messages(), logging.getLogger("jobs.silver_oltp")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        for day in range(SMALL.days):
            date = SMALL.start_date + dt.timedelta(days=day)
            run_jobs(spark, cfg, "bronze_oltp", start=date, end=date)
            run_jobs(spark, cfg, "silver_oltp")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return cfg, broken, doubled, handler.messages
