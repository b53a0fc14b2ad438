"""Extract the production tables over JDBC into bronze.oltp_snapshots, as the snapshot of a date.

For every table declared in oltp.sources: mode full reads the whole table; mode
incremental reads the rows whose updated_at is at or after the newest one already in the
silver fact table (a rerun re-reads the boundary rows; the MERGE downstream makes that
harmless). Reads are split over partition_column's range into oltp.jdbc.partitions
parallel queries. The password comes from the environment variable named by
oltp.jdbc.password_env. Every table is opened before anything is written, so a wrong
password, an unreachable server or a missing table fails in one line naming the source and
table; all tables of the date are then written in one Delta commit, so a failed extract
leaves bronze as it was. The date is --date (default: today, UTC).
"""
from __future__ import annotations

import datetime as dt
import logging

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.common.cli import one_line
from jobs.common.config import ConfigError, JobConfig
from jobs.common.io import InputError, read_table, replace_where, table_exists
from jobs.common.runs import RunContext, RunStats
from jobs.common.sources import SourceTable, load_sources
from schemas.oltp import FACTS, OLTP_SNAPSHOTS

SUMMARY = "production database over JDBC -> bronze.oltp_snapshots (full or incremental by updated_at)"
DATES = "optional"
log = logging.getLogger(__name__)
DRIVERS = {"postgresql": "org.postgresql.Driver", "mariadb": "org.mariadb.jdbc.Driver",
           "mysql": "org.mariadb.jdbc.Driver"}


def check_inputs(cfg, args) -> None:
    if not cfg.oltp.jdbc.url:
        raise ConfigError("oltp.jdbc.url is empty: set it (conf/<env>.yaml or --conf oltp.jdbc.url=jdbc:...)")
    if args.start and args.start != args.end:
        raise ConfigError("a JDBC extract is the database as it is now: give one --date, not a range")
    load_sources(cfg)
    cfg.secret(cfg.oltp.jdbc.password_env)


def connection_options(cfg: JobConfig) -> dict[str, str]:
    jdbc = cfg.oltp.jdbc
    kind = jdbc.url.split(":")[1] if jdbc.url.startswith("jdbc:") else ""
    if kind not in DRIVERS:
        raise ConfigError(f"oltp.jdbc.url {jdbc.url!r} is not a jdbc:postgresql, jdbc:mariadb or jdbc:mysql URL")
    url = jdbc.url
    if kind in ("mariadb", "mysql"):
        # Spark picks its SQL dialect (identifier quoting, types) by URL prefix and has one for
        # jdbc:mysql only; the MariaDB driver, which speaks to both servers, accepts that prefix
        # when told to.
        url = "jdbc:mysql:" + url.split(":", 2)[2]
        url += ("&" if "?" in url else "?") + "permitMysqlScheme"
    return {"url": url, "driver": DRIVERS[kind], "user": jdbc.user, "password": cfg.secret(jdbc.password_env),
            "fetchsize": str(jdbc.fetch_size), "connectTimeout": "10000", "loginTimeout": "10",
            # the tables hold UTC wall times without a zone: read them as such, not in the JVM's zone
            "preferTimestampNTZ": "true"}


def source_query(spark: SparkSession, cfg: JobConfig, source: SourceTable) -> str:
    columns = ", ".join(source.source_columns)
    query = f"SELECT {columns} FROM {source.source}"
    fact = FACTS.get(source.name)
    if source.mode == "incremental" and fact is not None and table_exists(spark, cfg, fact):
        watermark = read_table(spark, cfg, fact).agg(F.max("updated_at")).first()[0]
        if watermark is not None:
            query += f" WHERE {source.updated_at} >= '{watermark:%Y-%m-%d %H:%M:%S.%f}'"
    return query


def extract(spark: SparkSession, options: dict[str, str], cfg: JobConfig, source: SourceTable) -> DataFrame:
    """The table's rows as text, opened now (the schema lookup connects and finds the table)."""
    query = source_query(spark, cfg, source)
    reader = spark.read.format("jdbc").options(**options).option("dbtable", f"({query}) AS extract")
    try:
        if source.partition_column and cfg.oltp.jdbc.partitions > 1:
            bounds = (spark.read.format("jdbc").options(**options)
                      .option("dbtable", f"(SELECT min({source.partition_column}) AS lo, "
                                         f"max({source.partition_column}) AS hi FROM ({query}) AS q) AS bounds")
                      .load().first())
            if bounds["lo"] is not None:
                reader = (reader.option("partitionColumn", source.partition_column)
                          .option("lowerBound", str(bounds["lo"])).option("upperBound", str(int(bounds["hi"]) + 1))
                          .option("numPartitions", str(cfg.oltp.jdbc.partitions)))
        rows = reader.load()
    except Exception as exc:
        raise InputError(f"cannot read table {source.source} ({source.name}) from {options['url']}: "
                         f"{one_line(exc)}") from None
    return rows


def run(spark, cfg, args, ctx: RunContext):
    stats = RunStats()
    day = args.start or dt.datetime.now(dt.timezone.utc).date()
    options = connection_options(cfg)
    sources = load_sources(cfg)
    extracts = {table: extract(spark, options, cfg, source) for table, source in sources.items()}
    parts = []
    for table, rows in extracts.items():
        names = rows.columns
        parts.append(rows.select(
            F.lit(table).alias("source_table"), F.lit(day).alias("snapshot_date"),
            F.map_from_arrays(F.array(*[F.lit(c) for c in names]),
                              F.array(*[text(F.col(f"`{c}`"), rows.schema[c].dataType) for c in names]))
            .alias("record"),
            F.lit(f"{options['url']}#{sources[table].source}").alias("_source_file"),
            F.lit(ctx.started_ts).cast("timestamp").alias("_ingested_at"),
            F.lit(ctx.run_id).alias("_batch_id"), F.lit(ctx.started_ts.date()).alias("_ingest_date")))
    combined = parts[0]
    for part in parts[1:]:
        combined = combined.unionByName(part)
    tables = ", ".join(f"'{t}'" for t in extracts)
    commit = stats.add(replace_where(combined, cfg, OLTP_SNAPSHOTS,
                                     f"snapshot_date = '{day.isoformat()}' AND source_table IN ({tables})"))
    stats.input_files.extend(f"{options['url']}#{s.source}" for s in sources.values())
    stats.rows_read["jdbc"] = commit.rows
    log.info("bronze.oltp_snapshots: %d rows of %d tables extracted for %s -> version %d", commit.rows,
             len(extracts), day, commit.version)
    return stats


def text(column: Column, kind: T.DataType) -> Column:
    """A database value as the text a dump would hold (timestamps with milliseconds)."""
    if isinstance(kind, (T.TimestampType, T.TimestampNTZType)):
        return F.date_format(column, "yyyy-MM-dd HH:mm:ss.SSS")
    if isinstance(kind, T.BooleanType):
        return F.when(column, "true").when(~column, "false")
    return column.cast("string")
