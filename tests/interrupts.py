"""A test run stopped with SIGTERM (a CI timeout, `kill`, a scheduler) ends as Ctrl-C ends it:
Spark's running jobs are cancelled, pytest stops and tears its fixtures down, so the PostgreSQL
and MariaDB servers, a standalone cluster and the pipeline runs a test started are stopped too.
Python's own answer to SIGTERM is to die at once, which left all of them running."""
from __future__ import annotations

import signal

_before = None


def _as_ctrl_c(signum, frame):
    # Ctrl-C's handler: pyspark's when a SparkContext is up (it cancels the jobs, then raises
    # KeyboardInterrupt), Python's default otherwise
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        try:
            handler(signal.SIGINT, frame)
        except KeyboardInterrupt:
            pass  # raised again below, saying which signal it was
    raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")


def pytest_configure(config):
    global _before
    _before = signal.signal(signal.SIGTERM, _as_ctrl_c)


def pytest_unconfigure(config):
    if _before is not None:
        signal.signal(signal.SIGTERM, _before)
