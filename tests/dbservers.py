"""Private PostgreSQL and MariaDB servers for the tests: real servers from Debian's packages,
each in a temporary directory, on a free loopback port, with password authentication,
stopped by the fixture that started them (also when a test fails)."""
from __future__ import annotations

import contextlib
import dataclasses
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
USER, PASSWORD, DATABASE = "lakehouse", "lakehouse-test-password", "shop"


@dataclasses.dataclass(frozen=True)
class Server:
    kind: str   # postgresql | mariadb
    host: str
    port: int
    database: str
    user: str
    password: str

    @property
    def jdbc_url(self) -> str:
        return f"jdbc:{self.kind}://{self.host}:{self.port}/{self.database}"


def connect(server: Server):
    """A DB-API connection to a test server, as the test user."""
    if server.kind == "postgresql":
        import psycopg
        return psycopg.connect(host=server.host, port=server.port, user=server.user, password=server.password,
                               dbname=server.database)
    import pymysql
    return pymysql.connect(host=server.host, port=server.port, user=server.user, password=server.password,
                           database=server.database)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(args: list[str], user: str | None = None, **kwargs) -> None:
    if user and os.geteuid() == 0:
        args = ["runuser", "-u", user, "--", *args]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}")


def _wait_for(port: int, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not start listening on 127.0.0.1:{port} within {seconds}s")


@contextlib.contextmanager
def postgres(settings: dict[str, str] | None = None):
    """PostgreSQL refuses to run as root, so as root the cluster belongs to user postgres, in
    a directory of its own (pytest's temporary directories are private to root). `settings`
    are extra server settings (name: value)."""
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError("PostgreSQL 15 server is not installed: run `make db-servers`")
    owner = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="lakehouse-pg-"))
    data, password_file = root / "pgdata", root / "pgpass"
    password_file.write_text(PASSWORD)
    if owner:
        record = pwd.getpwnam(owner)
        for path in (root, password_file):
            os.chown(path, record.pw_uid, record.pw_gid)
    _run([str(PG_BIN / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={password_file}",
          "--auth=scram-sha-256", "-E", "UTF8", "--locale=C"], user=owner)
    port = free_port()
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    options += "".join(f" -c {name}={value}" for name, value in (settings or {}).items())
    _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "pg.log"), "-w", "start"],
         user=owner)
    try:
        _wait_for(port, "PostgreSQL")
        import psycopg
        with psycopg.connect(host="127.0.0.1", port=port, user=USER, password=PASSWORD, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        yield Server("postgresql", "127.0.0.1", port, DATABASE, USER, PASSWORD)
    finally:
        _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], user=owner)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def mariadb(root: Path):
    if not shutil.which("mariadbd") or not shutil.which("mariadb-install-db"):
        raise RuntimeError("MariaDB server is not installed: run `make db-servers`")
    data, socket_path, pid_file = root / "data", root / "mariadb.sock", root / "mariadb.pid"
    root.mkdir(parents=True, exist_ok=True)
    user = ["--user=root"] if os.geteuid() == 0 else []
    _run(["mariadb-install-db", f"--datadir={data}", "--auth-root-authentication-method=normal",
          "--skip-test-db", *user])
    port = free_port()
    process = subprocess.Popen(
        ["mariadbd", "--no-defaults", f"--datadir={data}", f"--socket={socket_path}", f"--port={port}",
         "--bind-address=127.0.0.1", f"--pid-file={pid_file}", "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0",
         "--character-set-server=utf8mb4", "--default-time-zone=+00:00", *user],
        stdout=subprocess.DEVNULL, stderr=open(root / "mariadb.log", "w"))
    try:
        _wait_for(port, "MariaDB")
        import pymysql
        conn = pymysql.connect(unix_socket=str(socket_path), user="root", autocommit=True)
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4")
            cursor.execute(f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'")
            cursor.execute(f"GRANT ALL ON {DATABASE}.* TO '{USER}'@'127.0.0.1'")
        conn.close()
        yield Server("mariadb", "127.0.0.1", port, DATABASE, USER, PASSWORD)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
