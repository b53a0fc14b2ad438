"""tests.interrupts: a test run stopped with SIGTERM tears down its session fixtures (the
database servers, the cluster) as a run stopped with Ctrl-C does."""
import os
import signal
import subprocess
import sys
import time

from jobs.common.config import PROJECT_ROOT

A_RUN = '''
import pathlib, time, pytest

@pytest.fixture(scope="session")
def server():
    yield
    pathlib.Path("torn-down").write_text("the server was stopped")

def test_a_long_one(server):
    pathlib.Path("started").write_text("")
    time.sleep(120)
'''


def stopped_with_sigterm(folder, *plugins: str) -> subprocess.CompletedProcess:
    """pytest run over a test that waits, with the given plugins, and sent SIGTERM once the test
    has started."""
    (folder / "test_waits.py").write_text(A_RUN)
    (folder / "pytest.ini").write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *(f"-p{p}" for p in plugins), "test_waits.py"]
    process = subprocess.Popen(args, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not (folder / "started").exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    return subprocess.CompletedProcess(args, process.returncode, output.decode(errors="replace"))


def test_sigterm_tears_the_session_fixtures_down_as_ctrl_c_does(tmp_path):
    run = stopped_with_sigterm(tmp_path, "tests.interrupts")
    assert (tmp_path / "torn-down").exists(), run.stdout
    assert run.returncode == 2, run.stdout  # pytest's exit code for an interrupted run
    assert "stopped by SIGTERM" in run.stdout


def test_without_it_sigterm_kills_pytest_before_any_teardown(tmp_path):
    run = stopped_with_sigterm(tmp_path)
    assert run.returncode == -signal.SIGTERM, run.stdout
    assert not (tmp_path / "torn-down").exists()
