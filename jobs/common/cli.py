"""The command line shared by every job: `python -m jobs [--env E] [--conf k=v]... JOB [ARGS]`.

A job module declares SUMMARY (one line), DATES ("required", "optional" or None),
optionally add_arguments(parser) and check_inputs(cfg, args) (run before Spark starts,
so a missing input fails fast and writes nothing), and run(spark, cfg, args, ctx) -> RunStats.
A job runs only when no drop of silver and gold was left half done (jobs.common.drop),
unless it declares RUNS_WHILE_DROPPED = True.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib
import logging
import re
import sys
import time
from types import ModuleType

from pyspark.sql import SparkSession

from jobs.common.config import ConfigError, JobConfig, known_envs, load_config
from jobs.common.drop import refuse_if_pending
from jobs.common.io import InputError
from jobs.common.log import configure_logging
from jobs.common.runs import RunContext, RunStats, record_run
from jobs.common.session import SetupError, build_session

log = logging.getLogger(__name__)

# name -> module, in the order the pipeline runs them.
JOBS: dict[str, str] = {
    "generate": "jobs.generate",
    "bronze_events": "jobs.bronze_events",
    "bronze_access_logs": "jobs.bronze_access_logs",
    "bronze_marketing": "jobs.bronze_marketing",
    "bronze_oltp": "jobs.bronze_oltp",
    "bronze_jdbc": "jobs.bronze_jdbc",
    "silver_events": "jobs.silver_events",
    "silver_sessions": "jobs.silver_sessions",
    "silver_page_views": "jobs.silver_page_views",
    "silver_ad_spend": "jobs.silver_ad_spend",
    "silver_oltp": "jobs.silver_oltp",
    "gold_user_activity": "jobs.gold_user_activity",
    "gold_customers": "jobs.gold_customers",
    "gold_daily_kpis": "jobs.gold_daily_kpis",
    "gold_funnel": "jobs.gold_funnel",
    "gold_retention": "jobs.gold_retention",
    "gold_marketing": "jobs.gold_marketing",
    "gold_experiments": "jobs.gold_experiments",
    "gold_web_traffic": "jobs.gold_web_traffic",
    "pipeline": "jobs.pipeline",
    "rebuild_from_bronze": "jobs.rebuild_from_bronze",
    "tables": "jobs.tables",
}

USER_ERRORS = (ConfigError, InputError, SetupError)


class UsageError(Exception):
    """A command line that cannot be used."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line, not usage plus message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see --help)")


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"malformed date {text!r}: expected YYYY-MM-DD") from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be 1 or more")
    return value


def share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be between 0 and 1")
    return value


def add_common_options(parser: argparse.ArgumentParser, top_level: bool) -> None:
    default = "local" if top_level else None
    parser.add_argument("--env", default=default,
                        help=f"configuration environment: conf/<env>.yaml (one of {', '.join(known_envs())}; "
                             "default local)")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                        help="override one configuration value, e.g. --conf paths.warehouse=/tmp/wh; repeatable")


def add_date_options(parser: argparse.ArgumentParser, required: bool) -> None:
    group = parser.add_argument_group("dates" + (" (required)" if required else " (optional)"))
    group.add_argument("--date", type=parse_date, help="one business date, YYYY-MM-DD")
    group.add_argument("--start", type=parse_date, help="first date of a range, YYYY-MM-DD")
    group.add_argument("--end", type=parse_date, help="last date of a range (inclusive), YYYY-MM-DD")


def resolve_dates(args: argparse.Namespace, required: bool) -> tuple[dt.date | None, dt.date | None]:
    date, start, end = getattr(args, "date", None), getattr(args, "start", None), getattr(args, "end", None)
    if date and (start or end):
        raise UsageError("give either --date or --start/--end, not both")
    if date:
        return date, date
    if bool(start) != bool(end):
        raise UsageError("--start and --end go together")
    if start and end and start > end:
        raise UsageError(f"--start {start} is after --end {end}")
    if required and not start:
        raise UsageError("this job needs --date D or --start D1 --end D2")
    if getattr(args, "rebuild", False) and not start:
        raise UsageError("--rebuild needs the dates to rebuild: --date D or --start D1 --end D2")
    return start, end


def load_job(name: str) -> ModuleType:
    if name not in JOBS:
        raise UsageError(f"unknown job {name!r}; `python -m jobs --help` lists the jobs")
    return importlib.import_module(JOBS[name])


def top_level_help() -> str:
    lines = ["jobs:"]
    for name in JOBS:
        module = load_job(name)
        lines.append(f"  {name:<22} {module.SUMMARY}")
    lines.append("")
    lines.append("`python -m jobs JOB --help` explains one job. The same command runs on a cluster "
                 "through ./spark-submit.sh JOB.")
    return "\n".join(lines)


def build_job_parser(name: str, module: ModuleType) -> argparse.ArgumentParser:
    parser = _Parser(prog=f"python -m jobs {name}", description=(module.__doc__ or module.SUMMARY).strip(),
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_options(parser, top_level=False)
    if module.DATES:
        add_date_options(parser, required=module.DATES == "required")
    if hasattr(module, "add_arguments"):
        module.add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _main(argv: list[str]) -> int:
    top = _Parser(prog="python -m jobs", description="Lakehouse batch jobs: landing -> bronze -> silver -> gold.",
                  epilog=top_level_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_options(top, top_level=True)
    top.add_argument("job", help="the job to run (listed below)")
    top.add_argument("job_args", nargs=argparse.REMAINDER, help="the job's own arguments (JOB --help)")
    args = top.parse_args(argv)
    module = load_job(args.job)
    job_args = build_job_parser(args.job, module).parse_args(args.job_args)
    env = job_args.env or args.env
    overrides = args.conf + job_args.conf
    start, end = resolve_dates(job_args, required=module.DATES == "required")
    job_args.start, job_args.end = start, end

    configure_logging()
    cfg = load_config(env, overrides)
    if hasattr(module, "check_inputs"):
        module.check_inputs(cfg, job_args)
    return run_job(args.job, module, cfg, job_args, " ".join(argv))


def run_job(name: str, module: ModuleType, cfg: JobConfig, args: argparse.Namespace, arguments: str) -> int:
    """Build the session, run the job and record it, stop the session; the process exit code."""
    if getattr(module, "NEEDS_SPARK", True) is False:
        module.run(None, cfg, args, RunContext.new(name, args.start, args.end, arguments))
        return 0
    spark = build_session(name, cfg)
    try:
        outcome = execute(spark, name, module, cfg, args, arguments)
    finally:
        spark.stop()
    if outcome.error:
        print(f"error: {name} failed: {outcome.error}", file=sys.stderr)
        return 1
    return 0


@dataclasses.dataclass(frozen=True)
class Outcome:
    job: str
    stats: RunStats
    seconds: float
    error: str | None


def execute(spark: SparkSession, name: str, module: ModuleType, cfg: JobConfig,
            args: argparse.Namespace, arguments: str) -> Outcome:
    """Run one job in an existing session and record it in ops.job_runs, whatever happens."""
    ctx = RunContext.new(name, args.start, args.end, arguments)
    log.info("job %s starting (env=%s, dates=%s..%s, run_id=%s)", name, cfg.env, args.start, args.end, ctx.run_id)
    began = time.monotonic()
    stats, error = RunStats(), None
    try:
        if not getattr(module, "RUNS_WHILE_DROPPED", False):
            refuse_if_pending(spark, cfg)
        stats = module.run(spark, cfg, args, ctx) or stats
    except USER_ERRORS as exc:
        error = str(exc)
    except Exception as exc:  # a job that cannot meet its contract fails loudly, in one line
        log.debug("job %s failed", name, exc_info=True)
        error = one_line(exc)
    seconds = time.monotonic() - began
    log.info("job %s %s in %.1fs", name, "failed" if error else "finished", seconds)
    if getattr(module, "RECORD_RUN", True):
        try:
            record_run(spark, cfg, ctx, stats, "failed" if error else "succeeded", error)
        except Exception:
            if not error:
                raise
            log.warning("could not record the failed run in ops.job_runs", exc_info=True)
    return Outcome(name, stats, seconds, error)


def one_line(exc: BaseException) -> str:
    """The root cause of an exception in one line, digging through JVM and streaming wrappers."""
    root = _java_root_cause(exc)
    if root:
        return root
    text = str(exc).strip()
    causes = [m.group(1, 2) for m in _CAUSE.finditer(text)
              if m.group(1) not in ("StreamingQueryException", "Py4JJavaError", "SparkException")]
    if causes:
        name, message = causes[-1]
        return f"{name}: {message.strip()}"
    return f"{type(exc).__name__}: {text.splitlines()[0].strip() if text else ''}".rstrip(": ")


def _java_root_cause(exc: BaseException) -> str | None:
    """For an error raised in the JVM whose own message is generic (Spark's "Couldn't connect
    to the database"), the innermost Java cause, e.g. the driver's "password authentication failed"."""
    throwable = getattr(exc, "_origin", None) or getattr(exc, "java_exception", None)
    if throwable is None:
        return None
    try:
        depth = 0
        while throwable.getCause() is not None and depth < 20:
            throwable, depth = throwable.getCause(), depth + 1
        if depth == 0:
            return None
        name = throwable.getClass().getSimpleName()
        message = (throwable.getMessage() or "").strip().splitlines()
        return f"{name}: {message[0].strip()}" if message else name
    except Exception:  # the JVM may be gone; fall back to the Python text
        return None


_CAUSE = re.compile(r"^\s*(?::\s*)?(?:Caused by: )?(?:[\w$]+\.)*(\w+(?:Exception|Error)): (.+)$", re.MULTILINE)
