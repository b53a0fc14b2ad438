"""bronze.oltp_snapshots -> silver facts (MERGE), order status history, SCD2 dimensions.

Takes the snapshot dates that changed in bronze since the version last consumed
(ops.table_builds), types every row by its declaration in oltp.sources (on a night with one
new dump per table, newer than those consumed, only the rows of keys that changed since the
dump before: nightly_rows), and quarantines rows with an empty key, an unparseable number,
date or flag, a key repeated with different values within one snapshot, or an order line or
payment whose order is not in the same snapshot. Valid rows are MERGEd into fact_orders,
fact_order_items and fact_payments (the latest updated_at wins, so old snapshots never undo
newer state) and every status seen goes to order_status_history. dim_users and dim_products
are SCD type 2: snapshots newer than every one a dimension was built from only add versions
and close the ones they replace; a late or retaken snapshot rebuilds the history from all
snapshots of the table (order and repetition do not matter). Either way only versions that
changed are rewritten, by MERGE (emails, names and addresses are stored as keyed hashes;
other columns a source declares as PII are blanked); a snapshot that lacks more than
oltp.max_missing_share of the previous one's keys is refused before anything is written.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from pyspark import StorageLevel
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.util import inheritable_thread_target

from jobs.common.io import (Commit, InputError, any_column_differs, changed_values, create_once, current_version,
                            merge_into, partitions, read_table)
from jobs.common.ledger import append_builds, build_row, last_build, last_source_version
from jobs.common.runs import RunStats
from jobs.common.secrets import pseudonym_key_frame, require_pseudonym_key
from jobs.common.sources import SourceTable, load_sources
from schemas.oltp import DIMENSIONS, FACTS, FOREIGN_KEYS, OLTP_SNAPSHOTS, ORDER_STATUS_HISTORY, TYPED, USER_PII
from schemas.ops import QUARANTINE
from schemas.spec import TableSpec
from transformations.common import conform
from transformations.events import pseudonymise
from transformations.oltp import (changed_keys, missing_key_shares, reject_conflicting_duplicates, reject_orphans,
                                  rows_of_keys, scd2_extend, scd2_history, snapshot_pair_counts, type_snapshot,
                                  with_keys)
from transformations.quarantine import to_quarantine

# columns the contracts store only as keyed hashes (<column>_hash), whatever a source declares
HASHED_PII = {"users": USER_PII}
SUMMARY = "bronze.oltp_snapshots -> silver facts (MERGE), order_status_history, dim_users/dim_products (SCD2)"
DATES = None
log = logging.getLogger(__name__)


def check_inputs(cfg, args) -> None:
    load_sources(cfg)
    require_pseudonym_key(cfg)


def typed_rows(snapshots: DataFrame, source: SourceTable) -> DataFrame:
    schema = TYPED[source.name]
    expressions = {f.name: source.expression(f.name) for f in schema.fields}
    expressions["updated_at"] = source.updated_at
    rows = snapshots.where(F.col("source_table") == source.name)
    typed = type_snapshot(rows, source.source_columns, expressions, schema, source.key)
    return reject_conflicting_duplicates(typed, source.key)


def nightly_rows(snapshots: DataFrame, sources: dict[str, SourceTable], dates: list, consumed_at: set | None,
                 now_at: set, keep) -> dict[str, DataFrame]:
    """Per source table, the bronze rows this run types, checks and merges into the facts.

    Every row of the run's snapshot dates; but when a table's one new snapshot is newer than
    every one it had when the facts were last built (`consumed_at`: bronze's (table, date)
    partitions then; `now_at`: now), only the rows of keys whose rows changed since that
    snapshot, and for order lines and payments also those of orders whose rows changed (so the
    duplicate and orphan checks see what they saw before). A row repeated unchanged from the
    snapshot before was merged or quarantined when it first came, so a night costs what
    changed, not the whole tables. A table whose parent is read whole is read whole too: a line
    rejected as an orphan last night is taken again when its order is mended."""
    recent = snapshots.where(F.col("snapshot_date").isin(*dates))
    parents = {child: (column, parent) for child, column, parent in FOREIGN_KEYS}
    rows: dict[str, DataFrame] = {}
    changed: dict[str, DataFrame] = {}
    for table in sorted(sources, key=lambda t: t in parents):  # parents first
        source, link = sources[table], parents.get(table)
        whole = recent.where(F.col("source_table") == table)
        pair = previous_snapshot(table, dates, consumed_at, now_at)
        if pair is None or (link is not None and link[1] not in changed):
            rows[table] = whole
            continue
        new, before = pair
        keyed = keyed_snapshots(snapshots, source, tuple(dict.fromkeys((*source.key, *([link[0]] if link else [])))),
                                pair)
        key = [f"_k_{c}" for c in source.key]
        keys = changed_keys(keyed[new], keyed[before].withColumn("snapshot_date", F.lit(new)), key)
        if link is not None:  # the lines and payments of changed orders
            keys = keys.unionByName(rows_of_keys(keyed[new], changed[link[1]], [f"_k_{link[0]}"])
                                    .select("snapshot_date", *key)).distinct()
        changed[table] = keep(keys) if table in {p for _, p in parents.values()} else keys
        rows[table] = rows_of_keys(keyed[new], keys, key).select(*snapshots.columns)
        log.info("%s %s: only the rows of keys that changed since the snapshot of %s", table, new, before)
    return rows


def keyed_snapshots(snapshots: DataFrame, source: SourceTable, columns: tuple[str, ...], days) -> dict:
    """Each of `days`' snapshot of `source` as with_keys rows over `columns`: what a night
    compares with the snapshot before it."""
    expressions = {f.name: source.expression(f.name) for f in TYPED[source.name].fields}
    rows = snapshots.where(F.col("source_table") == source.name)
    return {day: with_keys(rows.where(F.col("snapshot_date") == day), source.source_columns, expressions,
                           TYPED[source.name], columns) for day in days}


def previous_snapshot(table: str, dates: list, consumed_at: set | None, now_at: set) -> tuple | None:
    """(the one new snapshot date of `table`, the newest one consumed before it), when the
    run's dates hold exactly one snapshot of it, newer than every one consumed; else None."""
    if not consumed_at:
        return None
    new = sorted(set(dates) & snapshot_dates(now_at, table))
    before = snapshot_dates(consumed_at, table)
    if len(new) != 1 or not before or new[0] <= max(before) or max(before) not in snapshot_dates(now_at, table):
        return None
    return new[0], max(before)


def latest_per_key(rows: DataFrame, key: tuple[str, ...]) -> DataFrame:
    """One row per key: the newest updated_at, then the newest snapshot."""
    order = Window.partitionBy(*key).orderBy(F.col("updated_at").desc(), F.col("snapshot_date").desc())
    return rows.withColumn("_n", F.row_number().over(order)).where(F.col("_n") == 1).drop("_n")


def run(spark, cfg, args, ctx):
    stats = RunStats()
    sources = load_sources(cfg)
    version = current_version(spark, cfg, OLTP_SNAPSHOTS)
    if version is None:
        raise InputError("bronze.oltp_snapshots does not exist yet: run bronze_oltp first")
    consumed = last_source_version(spark, cfg, FACTS["orders"], OLTP_SNAPSHOTS)
    if consumed == version:
        log.info("silver OLTP tables are up to date with bronze.oltp_snapshots version %d", version)
        return stats
    dates = changed_values(spark, cfg, OLTP_SNAPSHOTS, "snapshot_date", -1 if consumed is None else consumed, version)
    snapshots = read_table(spark, cfg, OLTP_SNAPSHOTS, version=version)
    key_frame = pseudonym_key_frame(spark, cfg, hashed_into=[DIMENSIONS[table] for table in HASHED_PII])

    cached: list[DataFrame] = []  # each is read by several writes: type the rows once

    def keep(df: DataFrame) -> DataFrame:
        cached.append(df.persist(StorageLevel.MEMORY_AND_DISK))
        return df

    try:
        # Dimensions first: a refused snapshot must stop the run before anything is written.
        # one change-feed read per consumed version, one file listing per bronze version, for both dimensions
        changed_since = functools.cache(lambda after: dates if after == consumed else changed_values(
            spark, cfg, OLTP_SNAPSHOTS, "snapshot_date", -1 if after is None else after, version))
        dates_at = functools.cache(lambda at: partitions(spark, cfg, OLTP_SNAPSHOTS, version if at is None else at))
        dimensions = {table: dimension_changes(spark, cfg, snapshots, sources[table], key_frame, keep,
                                               changed_since, dates_at) for table in DIMENSIONS}
        rows = nightly_rows(snapshots, sources, dates, None if consumed is None else dates_at(consumed), dates_at(None),
                            keep)
        typed = {table: keep(typed_rows(rows[table], sources[table])) for table in sources}
        for child, column, parent in FOREIGN_KEYS:
            loaded = FACTS[parent]
            loaded_version = current_version(spark, cfg, loaded)  # as before this run's MERGEs
            known = (None if loaded_version is None else
                     read_table(spark, cfg, loaded, version=loaded_version).select(*sources[parent].key))
            typed[child] = keep(reject_orphans(typed[child], typed[parent], column, sources[parent].key[0], known))
        write_all(cfg, ctx, stats, sources, typed, dimensions)
    finally:
        for df in cached:
            df.unpersist()
    # what was built from which bronze version, in one ledger commit
    builds = [build_row(ctx, spec, OLTP_SNAPSHOTS.full_name, version, None, None,
                        current_version(spark, cfg, spec))  # the version this run left
              for spec in DIMENSIONS.values()]
    orders = [c for c in stats.commits if c.table == FACTS["orders"].full_name]
    builds.append(build_row(ctx, FACTS["orders"], OLTP_SNAPSHOTS.full_name, version, min(dates, default=None),
                            max(dates, default=None), orders[-1].version if orders else None))
    append_builds(spark, cfg, builds)
    return stats


def write_all(cfg, ctx, stats: RunStats, sources: dict[str, SourceTable], typed: dict[str, DataFrame],
              dimensions: dict[str, DataFrame]) -> None:
    """Quarantine, facts, status history, dimensions: every write of one run.

    Each write goes to its own table and reads only this run's cached frames and versions
    pinned before the first of them, so oltp.parallel_writes of them run at once: on small
    nights most of a MERGE is the driver planning and committing, which overlaps. A killed
    run is redone whole as before (every MERGE is idempotent and the ledger comes last).
    The commits are recorded in this order whatever order they finish in; if one fails, the
    others still finish and the first failure in this order is raised."""
    spark = typed["orders"].sparkSession
    rejected, counts = rejected_rows(typed)  # this first pass also fills the caches every write reads
    writes: list[tuple[TableSpec, Callable[[], Commit]]] = []
    if counts:  # nothing rejected: no quarantine commit (nor table)
        writes.append((QUARANTINE, functools.partial(write_quarantine, rejected, cfg, ctx)))
    for table, spec in FACTS.items():
        valid = latest_per_key(typed[table].where(F.col("reject_reason").isNull()), sources[table].key)
        writes.append((spec, functools.partial(merge_into, conform(valid, spec), cfg, spec,
                                               update_condition="s.updated_at > t.updated_at", skip_unchanged=True)))
    history = (typed["orders"].where(F.col("reject_reason").isNull())
               .groupBy("order_id", "status", F.col("updated_at").alias("changed_at"))
               .agg(F.min("snapshot_date").alias("first_seen_snapshot")))
    writes.append((ORDER_STATUS_HISTORY, functools.partial(
        merge_into, history, cfg, ORDER_STATUS_HISTORY, update_condition="s.first_seen_snapshot < t.first_seen_snapshot",
        skip_unchanged=True)))
    for table, spec in DIMENSIONS.items():  # only versions that changed are rewritten (and reach the change feed)
        if dimensions[table] is not None:
            rows, whole = dimensions[table]
            writes.append((spec, functools.partial(merge_into, conform(rows, spec), cfg, spec, delete_missing=whole,
                                                   update_condition=any_column_differs(spec))))
    for spec, _ in writes:  # tables and catalog names created one by one, before the writes overlap
        create_once(spark, cfg, spec)
    with ThreadPoolExecutor(max_workers=cfg.oltp.parallel_writes, thread_name_prefix="silver_oltp") as pool:
        pending = [pool.submit(inheritable_thread_target(spark)(write)) for _, write in writes]
    for done in pending:
        stats.add(done.result())
    for reason, n in counts.items():
        stats.rows_quarantined[reason] = stats.rows_quarantined.get(reason, 0) + n


def dimension_changes(spark, cfg, snapshots: DataFrame, source: SourceTable, key_frame: DataFrame, keep,
                      changed_since, dates_at) -> tuple[DataFrame, bool] | None:
    """(the rows to MERGE into the source's SCD2 dimension, whether they are the whole table),
    or None when no snapshot of the source changed since the dimension was last built.
    `changed_since(v)` gives the snapshot dates bronze changed after version v (None: ever);
    `dates_at(v)` the (table, date) partitions of bronze at version v (None: the one this run reads).

    When every new snapshot is later than all those the dimension was built from, only the
    last of those and the new ones are read, and only the versions they add or close are
    MERGEd (scd2_extend), so a nightly run costs one snapshot, not the whole history; with one
    new snapshot, only the keys whose rows changed since the last are typed and hashed
    (changed_observations). A late or retaken snapshot rebuilds the dimension from every
    snapshot."""
    spec = DIMENSIONS[source.name]
    built = last_build(spark, cfg, spec, OLTP_SNAPSHOTS)
    new = sorted(set(changed_since(built and built[0])) & snapshot_dates(dates_at(None), source.name))
    if not new:
        return None
    before = snapshot_dates(dates_at(built[0]), source.name) if built and built[1] is not None else set()
    last = max(before, default=None)
    if last is not None and new[0] > last:
        if len(new) == 1:  # a night: only the keys that changed since the last snapshot
            rows, attributes, taken = changed_observations(snapshots, source, key_frame, cfg.oltp.max_missing_share,
                                                           keep, last, new[0])
        else:
            rows, attributes = observations(snapshots.where(F.col("snapshot_date").isin(last, *new)), source,
                                            key_frame, cfg.oltp.max_missing_share, keep)
            taken = None if rows.where(F.col("snapshot_date") == last).isEmpty() else ()
        if taken is not None:
            log.info("%s: adding the snapshots of %s to the history", spec.full_name, ", ".join(map(str, new)))
            dimension = read_table(spark, cfg, spec, version=built[1])
            return scd2_extend(dimension, rows, source.key, attributes, last, taken or None), False
    log.info("%s: rebuilding the history from every snapshot", spec.full_name)
    rows, attributes = observations(snapshots, source, key_frame, cfg.oltp.max_missing_share, keep)
    return scd2_history(rows, source.key, attributes), True


def snapshot_dates(partition_values: set[tuple], table: str) -> set[dt.date]:
    """The snapshot dates of one source table among bronze's (table, date) partition values."""
    return {dt.date.fromisoformat(day) for name, day in partition_values if name == table}


def changed_observations(snapshots: DataFrame, source: SourceTable, key_frame: DataFrame,
                         max_missing_share: float, keep, last: dt.date, new: dt.date) -> tuple:
    """observations() of the snapshots of `last` and `new`, but only of the keys whose rows
    differ between the two (added, removed or altered), and the snapshot dates that hold a
    valid row: scd2_extend opens and closes versions for no other key, so a night types and
    hashes what changed, not the whole table. The dates are None when `last` has no rows (the
    history is then rebuilt). The truncation check counts the keys of every row that has one,
    valid or not, since the rest are not typed."""
    keyed = keyed_snapshots(snapshots, source, source.key, (last, new))
    key = [f"_k_{c}" for c in source.key]
    narrow = keep(keyed[last].unionByName(keyed[new]).select("snapshot_date", *key, "_fingerprint"))
    counts = snapshot_pair_counts(narrow, key, last, new).first()
    if counts["last_keys"] and counts["new_keys"] and counts["lost_keys"] / counts["last_keys"] > max_missing_share:
        raise truncated(source, new, counts["lost_keys"] / counts["last_keys"], max_missing_share)
    if not counts["last_rows"]:
        return None, (), None
    now = narrow.where(F.col("snapshot_date") == new)
    changed = keep(changed_keys(now, narrow.where(F.col("snapshot_date") == last)
                                .withColumn("snapshot_date", F.lit(new)), key))
    chosen = (rows_of_keys(keyed[last], changed.withColumn("snapshot_date", F.lit(last)), key)
              .unionByName(rows_of_keys(keyed[new], changed, key)))
    rows, attributes = observations(chosen.select(*snapshots.columns), source, key_frame, None, keep)
    # a dump whose every row failed to type is not taken as every key deleted (nor is it by a rebuild)
    unchanged = now.select(*key).subtract(changed.select(*key))
    valid_now = not rows.where(F.col("snapshot_date") == new).isEmpty() or not unchanged.isEmpty()
    return rows, attributes, (last, new) if valid_now else (last,)


def observations(snapshots: DataFrame, source: SourceTable, key_frame: DataFrame, max_missing_share: float | None,
                 keep) -> tuple[DataFrame, tuple[str, ...]]:
    """The valid rows of a dimension's snapshots as SCD2 observations (PII hashed or blanked),
    and their attribute columns; refuses a snapshot that looks truncated (unless
    `max_missing_share` is None: checked before)."""
    rows = typed_rows(snapshots, source).where(F.col("reject_reason").isNull())
    hashed = HASHED_PII.get(source.name, ())
    for column in source.pii:  # declared sensitive, but stored in clear by the contract: blank it
        if column not in hashed and column not in source.key:
            rows = rows.withColumn(column, F.lit(None).cast(rows.schema[column].dataType))
    if hashed:
        rows = pseudonymise(rows, key_frame, {f"{column}_hash": column for column in hashed})
    rows = keep(rows)  # read by the truncation check, then by the history
    if max_missing_share is not None:
        refuse_truncated(rows, source, max_missing_share)
    attributes = tuple(c for c in rows.columns if c not in (*source.key, "updated_at", "snapshot_date",
                                                             "_source_file", "raw", "reject_reason"))
    return rows.select(*source.key, "snapshot_date", "updated_at", *attributes), attributes


def refuse_truncated(observations: DataFrame, source: SourceTable, max_missing_share: float) -> None:
    """Raises if a snapshot among `observations` (snapshot_date and the key) lacks more than
    `max_missing_share` of the keys of the snapshot before it."""
    refused = (missing_key_shares(observations, source.key)
               .where(F.col("missing_share") > max_missing_share).orderBy("snapshot_date").collect())
    if refused:
        raise truncated(source, refused[0]["snapshot_date"], refused[0]["missing_share"], max_missing_share)


def truncated(source: SourceTable, snapshot_date: dt.date, missing_share: float,
              max_missing_share: float) -> InputError:
    """The error that refuses a snapshot of `source` lacking `missing_share` of the keys before it."""
    return InputError(f"the {source.name} snapshot of {snapshot_date} lacks {missing_share:.0%} of the keys of the "
                      f"snapshot before it (more than oltp.max_missing_share={max_missing_share:.0%}): it looks "
                      "truncated, so it is refused and no table was changed; fix or remove that dump and rerun")


def rejected_rows(typed: dict[str, DataFrame]) -> tuple[dict[str, DataFrame], dict[str, int]]:
    """Each table's rejected rows, and how many were rejected for each reason."""
    rejected = {table: rows.where(F.col("reject_reason").isNotNull()) for table, rows in typed.items()}
    reasons = functools.reduce(DataFrame.unionByName, [rows.select("reject_reason") for rows in rejected.values()])
    return rejected, {r["reject_reason"]: r["count"] for r in reasons.groupBy("reject_reason").count().collect()}


def write_quarantine(rejected: dict[str, DataFrame], cfg, ctx) -> Commit:
    """Every table's rejected rows in one MERGE (one commit), not one per table."""
    quarantine = functools.reduce(DataFrame.unionByName, [
        to_quarantine(rows.withColumnRenamed("raw", "value"), f"oltp/{table}", ctx.run_id, ctx.started_ts)
        for table, rows in rejected.items()])
    sources = ", ".join(f"'oltp/{table}'" for table in rejected)
    return merge_into(quarantine, cfg, QUARANTINE, insert_only=True, target_filter=f"t.source IN ({sources})")
