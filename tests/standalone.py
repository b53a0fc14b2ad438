"""A real Spark standalone cluster on 127.0.0.1, started from the installed pyspark's own
classes: one master and N workers, each a JVM of its own, stopped by PID on the way out.

    with standalone_cluster(workdir, workers=2) as cluster:
        ... spark-submit --master cluster.url ...
        cluster.kill_worker(0)

Every process runs in its own process group, so stopping a worker also stops the executors
it launched. Nothing here reads the project's directory: the workers run in `workdir`
without PYTHONPATH, so code reaches executors only through what spark-submit ships.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pyspark

SPARK_HOME = Path(pyspark.__file__).parent
SPARK_CLASS = SPARK_HOME / "bin" / "spark-class"
HOST = "127.0.0.1"
MASTER_PORT = 7077


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) == 0


def stop(process: subprocess.Popen | None) -> None:
    """SIGTERM the process's group, then SIGKILL it if it has not gone within 15 s."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def cluster_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SPARK_HOME", "PYSPARK_GATEWAY_PORT")}
    env.update(SPARK_LOCAL_IP=HOST, SPARK_HOME=str(SPARK_HOME), SPARK_LOG_DIR=str(workdir / "logs"))
    return env


@dataclass
class StandaloneCluster:
    workdir: Path
    ui_port: int
    master: subprocess.Popen | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)
    url: str = f"spark://{HOST}:{MASTER_PORT}"

    def state(self) -> dict:
        """The master's own view (its web UI's JSON): workers, their state, applications."""
        with urllib.request.urlopen(f"http://{HOST}:{self.ui_port}/json/", timeout=5) as response:
            return json.load(response)

    def start_process(self, name: str, *args: str) -> subprocess.Popen:
        log = (self.workdir / f"{name}.out").open("wb")
        # spark-class ends in `exec java ...`: the PID is the JVM's
        return subprocess.Popen([str(SPARK_CLASS), *args], cwd=self.workdir, env=cluster_env(self.workdir),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_for(self, what: str, ready, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                if ready(self.state()):
                    return
            dead = [p.args[1] for p in (self.master, *self.workers) if p is not None and p.poll() is not None]
            if dead:
                raise RuntimeError(f"{', '.join(dead)} exited while waiting for {what}: see {self.workdir}/*.out")
            time.sleep(0.5)
        raise TimeoutError(f"no {what} after {timeout:.0f} s: see {self.workdir}/*.out")

    def kill_worker(self, index: int) -> None:
        """SIGKILL a worker and the executors it launched, as the loss of a machine would."""
        os.killpg(self.workers[index].pid, signal.SIGKILL)
        self.workers[index].wait()

    def stop(self) -> None:
        for process in (*self.workers, self.master):
            stop(process)


@contextlib.contextmanager
def standalone_cluster(workdir: Path, workers: int = 2, cores: int = 1, memory: str = "1536m"):
    """A master on spark://127.0.0.1:7077 and `workers` workers of `cores` cores each,
    ready (all workers ALIVE) when entered, stopped by PID when left, also on failure."""
    if port_in_use(MASTER_PORT):
        raise RuntimeError(f"port {MASTER_PORT} on {HOST} is taken: another Spark master (or another test run) "
                           "is using it; stop it first")
    workdir.mkdir(parents=True, exist_ok=True)
    cluster = StandaloneCluster(workdir, ui_port=free_port())
    try:
        cluster.master = cluster.start_process(
            "master", "org.apache.spark.deploy.master.Master",
            "--host", HOST, "--port", str(MASTER_PORT), "--webui-port", str(cluster.ui_port))
        cluster.wait_for("master", lambda state: state.get("status") == "ALIVE")
        for index in range(workers):
            work = workdir / f"worker{index}"
            work.mkdir(exist_ok=True)
            cluster.workers.append(cluster.start_process(
                f"worker{index}", "org.apache.spark.deploy.worker.Worker", cluster.url,
                "--host", HOST, "--cores", str(cores), "--memory", memory,
                "--webui-port", str(free_port()), "--work-dir", str(work)))
        cluster.wait_for(f"{workers} workers", lambda state: state.get("aliveworkers") == workers)
        yield cluster
    finally:
        cluster.stop()


@contextlib.contextmanager
def history_server(event_log_dir: Path, workdir: Path):
    """pyspark's own history server over `event_log_dir`; yields its REST base URL."""
    port = free_port()
    env = cluster_env(workdir)
    env["SPARK_HISTORY_OPTS"] = (f"-Dspark.history.fs.logDirectory=file:{event_log_dir} "
                                 f"-Dspark.history.ui.port={port} -Dspark.history.fs.update.interval=1s")
    workdir.mkdir(parents=True, exist_ok=True)
    log = (workdir / "history.out").open("wb")
    process = subprocess.Popen([str(SPARK_CLASS), "org.apache.spark.deploy.history.HistoryServer"], cwd=workdir,
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield f"http://{HOST}:{port}/api/v1"
    finally:
        stop(process)
