"""Wall time and peak memory of a command, its children and any server processes it uses.

Memory is the proportional set size (PSS) summed over the process trees, sampled every
0.2 s: shared pages (a JVM's mapped jars, PostgreSQL's shared buffers seen by every backend)
count once, split among their users, so engines with many processes are not overcounted.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


class CommandFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Measurement:
    wall_s: float
    peak_rss_mb: float  # MiB (2**20 bytes); the name is the one issue #8 asks for


def _memory(process: psutil.Process) -> int:
    try:
        return process.memory_full_info().pss
    except (psutil.AccessDenied, AttributeError):
        return process.memory_info().rss


def tree_memory(roots: list[psutil.Process]) -> int:
    total = 0
    for root in roots:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
            for process in (root, *root.children(recursive=True)):
                with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
                    total += _memory(process)
    return total


def server_processes(port: int) -> list[psutil.Process]:
    """The postmaster listening on `port` (its backends are its children)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if any(part.endswith("postgres") for part in cmdline[:1]) and f"{port}" in cmdline:
            found.append(process)
    return found


def warm_page_cache(root: Path) -> int:
    """Read every file under `root` once, so the next engine finds its input in the OS page
    cache like the others do. Without it the first engine of a size pays the disk reads (the
    world is reused across bench runs, hours after it was written) and the next ones do not.
    `root` may also be a single file. Returns the bytes read."""
    total = 0
    for path in [root] if root.is_file() else sorted(root.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    total += len(chunk)
    return total


def run_measured(command: list[str], log: Path, cwd: Path | None = None, env: dict | None = None,
                 servers: list[psutil.Process] = ()) -> Measurement:
    """Run `command` to completion; its output goes to `log`. Raises CommandFailed on a non-zero exit."""
    with log.open("wb") as out:
        began = time.monotonic()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        root = psutil.Process(process.pid)
        peak = 0
        try:
            while process.poll() is None:
                peak = max(peak, tree_memory([root, *servers]))
                time.sleep(0.2)
        except BaseException:  # the bench was interrupted: take the command (and its JVM) down with it
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        wall = time.monotonic() - began
    if process.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise CommandFailed(f"{' '.join(command[:4])} ... exited {process.returncode}; log {log}:\n{tail}")
    return Measurement(round(wall, 2), round(peak / 2**20, 1))
