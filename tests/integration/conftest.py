import shutil
from pathlib import Path

import pytest

from tests import dbservers
from tests.conftest import test_config
from tests.integration.world_helpers import SMALL, generate_world, run_pipeline
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
