"""ops.job_runs: one row per job run, written by the CLI after the job's run() returns or fails."""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid

from pyspark.sql import SparkSession

from jobs.common.config import JobConfig
from jobs.common.io import Commit, append_rows
from jobs.common.version import code_version
from schemas.ops import JOB_RUNS

log = logging.getLogger(__name__)


@dataclasses.dataclass
class RunStats:
    """What a run read, wrote and rejected; jobs fill it in, the CLI records it."""
    input_files: list[str] = dataclasses.field(default_factory=list)
    rows_read: dict[str, int] = dataclasses.field(default_factory=dict)
    commits: list[Commit] = dataclasses.field(default_factory=list)
    rows_quarantined: dict[str, int] = dataclasses.field(default_factory=dict)

    def add(self, commit: Commit) -> Commit:
        self.commits.append(commit)
        return commit

    def rows_written(self) -> dict[str, int]:
        written: dict[str, int] = {}
        for commit in self.commits:
            written[commit.table] = written.get(commit.table, 0) + commit.rows
        return written

    def table_versions(self) -> dict[str, int]:
        return {commit.table: commit.version for commit in self.commits}


@dataclasses.dataclass(frozen=True)
class RunContext:
    """Identity of one run, handed to the job so it can stamp what it writes."""
    run_id: str
    job: str
    started_ts: dt.datetime
    start_date: dt.date | None
    end_date: dt.date | None
    arguments: str

    @staticmethod
    def new(job: str, start: dt.date | None, end: dt.date | None, arguments: str) -> RunContext:
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        return RunContext(uuid.uuid4().hex, job, now, start, end, arguments)


def record_run(spark: SparkSession, cfg: JobConfig, ctx: RunContext, stats: RunStats,
               status: str, error: str | None = None) -> None:
    """Append the run's row to ops.job_runs."""
    ended = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    row = (
        ctx.run_id, ctx.job, cfg.env, status, ctx.start_date, ctx.end_date, ctx.arguments,
        ctx.started_ts, ended, int((ended - ctx.started_ts).total_seconds() * 1000),
        list(stats.input_files), dict(stats.rows_read), stats.rows_written(),
        dict(stats.rows_quarantined), stats.table_versions(), code_version(), error,
        ctx.started_ts.date(),
    )
    append_rows(spark.createDataFrame([row], JOB_RUNS.schema), cfg, JOB_RUNS)
    log.info("recorded run %s of %s as %s in %s", ctx.run_id, ctx.job, status, JOB_RUNS.full_name)
