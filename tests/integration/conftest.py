import pytest

from jobs.pipeline import STEPS
from tests import dbservers
from tests.conftest import test_config
from tests.integration.world_helpers import generate_world, run_jobs


@pytest.fixture(scope="session")
def db_servers(tmp_path_factory):
    """A real PostgreSQL and a real MariaDB server for the whole test process."""
    with dbservers.postgres() as pg, dbservers.mariadb(tmp_path_factory.mktemp("mariadb")) as maria:
        yield {"postgresql": pg, "mariadb": maria}


@pytest.fixture(scope="session")
def clean_run(spark, tmp_path_factory):
    """The small world built once by every pipeline step in this process, in local mode:
    the reference that killed runs and cluster runs are compared with."""
    cfg = test_config(tmp_path_factory.mktemp("clean"))
    generate_world(cfg)
    run_jobs(spark, cfg, *STEPS)
    return cfg
