"""How every gold table is kept up to date: rebuild only the business dates that new or late
input touched, plus the dates the ledger says were never built, and record what each date
was built from.

A gold job declares a GoldBuild: its target, its inputs, how a change to an input maps to
target dates (`touched`), and how to compute the target rows for a list of dates from
given input versions (`compute`). The runner:

1. reads each input's current Delta version and the version this target last consumed
   (ops.table_builds); if none changed and no date is missing, it writes nothing;
2. collects the touched dates from the inputs' change feeds, adds the calendar dates with
   no ops.gold_builds row (gaps: the first build, a date with no data yet, a failed run),
   and any dates asked for with --rebuild; keeps those inside the calendar (the first to the
   last business date of silver.events and silver.page_views);
3. computes those dates from the inputs pinned at the versions of step 1 and replaces
   exactly them in one Delta commit;
4. appends one ops.gold_builds row per date (input versions, run id, code version) and one
   ops.table_builds row per input. Killed between 3 and 4, the next run rebuilds the same
   dates from the same or newer inputs: the same table.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common.config import JobConfig
from jobs.common.io import (Commit, InputError, changed_rows, current_version, overwrite, partitions, read_table,
                            replace_where)
from jobs.common.ledger import append_ledger, consumed_versions, ledger_rows, record_builds
from jobs.common.runs import RunContext, RunStats
from jobs.common.version import code_version
from schemas.events import EVENTS
from schemas.ops import GOLD_BUILDS
from schemas.spec import TableSpec
from schemas.web import PAGE_VIEWS

log = logging.getLogger(__name__)
DAY = dt.timedelta(days=1)

Versions = dict[str, int]  # input full name -> Delta version (absent: the input does not exist)
Changes = dict[str, tuple[int | None, int]]  # input full name -> (version consumed, current version)


@dataclasses.dataclass(frozen=True)
class GoldBuild:
    target: TableSpec
    inputs: tuple[TableSpec, ...]
    # the dates a change touches; called only for inputs that changed since a previous build
    touched: Callable[["BuildContext", Changes], set[dt.date]]
    # the target's rows for the given dates (None: the whole table) from pinned input versions
    compute: Callable[["BuildContext", list[dt.date] | None], DataFrame]
    date_column: str | None = "business_date"  # None: the table is rebuilt whole when an input changes
    optional: tuple[TableSpec, ...] = ()      # inputs that may not exist (read as empty)
    write: Callable[[DataFrame, JobConfig, TableSpec], Commit] | None = None  # default: replace the dates


@dataclasses.dataclass(frozen=True)
class BuildContext:
    """What compute and touched functions see: the session, config, pinned input versions
    and the calendar of business dates."""
    spark: SparkSession
    cfg: JobConfig
    versions: Versions
    calendar: tuple[dt.date, dt.date]

    @property
    def zone(self) -> str:
        return self.cfg.business.time_zone

    def read(self, spec: TableSpec) -> DataFrame:
        """An input as of its pinned version (an optional input that does not exist: empty)."""
        if spec.full_name not in self.versions:
            return self.spark.createDataFrame([], spec.schema)
        return read_table(self.spark, self.cfg, spec, version=self.versions[spec.full_name])

    def changes(self, spec: TableSpec, changed: Changes) -> DataFrame | None:
        """The input's change feed since the version last consumed, or None if unchanged."""
        if spec.full_name not in changed:
            return None
        after, upto = changed[spec.full_name]
        return changed_rows(self.spark, self.cfg, spec, after, upto)

    def dates(self, df: DataFrame | None, *columns) -> set[dt.date]:
        """Distinct non-null values of date expressions over `df` (None: no dates)."""
        if df is None:
            return set()
        values = df.select(F.explode(F.array(*columns)).alias("d")).where(F.col("d").isNotNull()).distinct()
        return {row[0] for row in values.collect()}  # distinct dates: a few hundred at most


def calendar(spark: SparkSession, cfg: JobConfig, versions: Versions) -> tuple[dt.date, dt.date] | None:
    """The first and last business dates of behaviour data (events and access logs), at the
    pinned version where the build reads that table."""
    dates = []
    for spec in (EVENTS, PAGE_VIEWS):  # each partitioned by its business date alone
        version = versions[spec.full_name] if spec.full_name in versions else current_version(spark, cfg, spec)
        if version is not None:
            dates += [values[0] for values in partitions(spark, cfg, spec, version)]
    if not dates:
        return None
    return dt.date.fromisoformat(min(dates)), dt.date.fromisoformat(max(dates))


def run_build(spark: SparkSession, cfg: JobConfig, args, ctx: RunContext, build: GoldBuild) -> RunStats:
    stats = RunStats()
    target = build.target
    versions = _input_versions(spark, cfg, build)
    previously = consumed_versions(spark, cfg, target)
    consumed = {name: previously.get(name) for name in versions}
    changed: Changes = {name: (consumed[name], version) for name, version in versions.items()
                        if consumed[name] != version}
    window = calendar(spark, cfg, versions)
    if window is None:
        log.info("%s: no events or access logs yet, nothing to build", target.full_name)
        return stats
    bctx = BuildContext(spark, cfg, versions, window)
    rebuild = _requested(args, window)
    if build.date_column is None:
        if not changed and not rebuild:
            log.info("%s is up to date", target.full_name)
            return stats
        commit = stats.add(overwrite(build.compute(bctx, None), cfg, target) if build.write is None
                           else build.write(build.compute(bctx, None), cfg, target))
        _record(spark, cfg, ctx, build, versions, [None], commit, window)
        return stats

    gaps = _unbuilt_dates(spark, cfg, target, window)
    first_build = any(version is None for version in consumed.values())
    if not changed and not gaps and not rebuild:
        log.info("%s is up to date with its inputs", target.full_name)
        return stats
    touched = set(date_range(*window)) if first_build else (build.touched(bctx, changed) if changed else set())
    dates = sorted(d for d in touched | gaps | rebuild if window[0] <= d <= window[1])
    if not dates:
        _record(spark, cfg, ctx, build, versions, [], None, window)
        return stats
    rows = build.compute(bctx, dates)
    condition = f"{build.date_column} IN ({', '.join(repr(d.isoformat()) for d in dates)})"
    commit = stats.add(replace_where(rows, cfg, target, condition))
    _record(spark, cfg, ctx, build, versions, dates, commit, window)
    log.info("%s: %d dates rebuilt (%s..%s) -> version %d", target.full_name, len(dates), dates[0], dates[-1],
             commit.version)
    return stats


def _input_versions(spark: SparkSession, cfg: JobConfig, build: GoldBuild) -> Versions:
    versions = {}
    for spec in build.inputs:
        version = current_version(spark, cfg, spec)
        if version is None:
            if spec in build.optional:
                continue
            raise InputError(f"{spec.full_name} does not exist yet: run the job that writes it before "
                             f"{build.target.full_name}")
        versions[spec.full_name] = version
    return versions


def date_range(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every date from first to last, both included."""
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _requested(args, window) -> set[dt.date]:
    if not getattr(args, "rebuild", False) or not args.start:
        return set()
    return {d for d in date_range(args.start, args.end)}


def _unbuilt_dates(spark: SparkSession, cfg: JobConfig, target: TableSpec, window) -> set[dt.date]:
    built = {day for table, day in ledger_rows(spark, cfg, GOLD_BUILDS) if table == target.full_name}
    return {d for d in date_range(*window) if d not in built}


def _record(spark, cfg, ctx, build: GoldBuild, versions: Versions, dates: list, commit: Commit | None,
            window) -> None:
    if commit is not None:
        built = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        rows = [(build.target.full_name, day, dict(versions), commit.version, ctx.run_id, code_version(), built)
                for day in dates]
        append_ledger(spark, cfg, GOLD_BUILDS, rows)
    start, end = (min(dates), max(dates)) if dates and dates[0] is not None else window
    record_builds(spark, cfg, ctx, build.target, versions, start, end, commit)


def dates_frame(spark: SparkSession, dates: list[dt.date], name: str = "business_date") -> DataFrame:
    """A one-column DataFrame of the given dates."""
    return spark.createDataFrame([(d,) for d in dates], f"{name} date")


def shift(dates: Iterable[dt.date], before: int = 0, after: int = 0) -> set[dt.date]:
    """Every date within [d - before, d + after] of a given date."""
    return {d + dt.timedelta(days=n) for d in dates for n in range(-before, after + 1)}


def add_rebuild_option(parser) -> None:
    """--rebuild, which every gold job and the pipeline take (with --date/--start/--end)."""
    parser.add_argument("--rebuild", action="store_true",
                        help="recompute the dates of --date or --start/--end even if their inputs did not "
                             "change (e.g. after a fix to the code); without it, only changed and missing "
                             "dates are built")
