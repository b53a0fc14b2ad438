import pytest

from tests import dbservers


@pytest.fixture(scope="session")
def db_servers(tmp_path_factory):
    """A real PostgreSQL and a real MariaDB server for the whole test process."""
    with dbservers.postgres() as pg, dbservers.mariadb(tmp_path_factory.mktemp("mariadb")) as maria:
        yield {"postgresql": pg, "mariadb": maria}
