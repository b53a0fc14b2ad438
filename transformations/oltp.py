"""Production snapshots: typing and validation by a source declaration, and SCD type 2."""
from __future__ import annotations

import functools

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

NULL_KEY = "null_key"
UNPARSEABLE_NUMBER = "unparseable_number"
UNPARSEABLE_DATE = "unparseable_date"
UNPARSEABLE_VALUE = "unparseable_value"
DUPLICATE_KEY = "duplicate_key"
ORPHAN_FOREIGN_KEY = "orphan_foreign_key"

TIMESTAMP_FORMATS = ("yyyy-MM-dd HH:mm:ss.SSS", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.SSS",
                     "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd")
TRUE_TEXT, FALSE_TEXT = ("true", "t", "1", "yes", "y"), ("false", "f", "0", "no", "n")


def typed_value(text: Column, kind: T.DataType) -> Column:
    """Text as `kind`, or null when it does not parse (never an error)."""
    if isinstance(kind, T.TimestampType):
        return F.coalesce(*[F.try_to_timestamp(text, F.lit(fmt)) for fmt in TIMESTAMP_FORMATS])
    if isinstance(kind, T.BooleanType):
        lowered = F.lower(F.trim(text))
        return F.when(lowered.isin(*TRUE_TEXT), True).when(lowered.isin(*FALSE_TEXT), False)
    if isinstance(kind, T.StringType):
        return text
    return F.trim(text).try_cast(kind)


def _failure(kind: T.DataType) -> str:
    if isinstance(kind, T.TimestampType):
        return UNPARSEABLE_DATE
    if isinstance(kind, (T.BooleanType, T.StringType)):
        return UNPARSEABLE_VALUE
    return UNPARSEABLE_NUMBER


def type_snapshot(rows: DataFrame, source_columns: tuple[str, ...], expressions: dict[str, str],
                  schema: T.StructType, key: tuple[str, ...]) -> DataFrame:
    """Bronze snapshot rows (record, snapshot_date, _source_file) as `schema`'s typed columns.

    `expressions` maps each project column to a Spark SQL expression over the source
    columns. Adds `raw` (the record as JSON) and `reject_reason`: null_key when a key is
    empty, unparseable_number / unparseable_date / unparseable_value when a non-empty
    value does not parse."""
    text_of, typed_of, reason = _typing_columns(tuple(expressions.items()), schema, key)
    source = rows.select("snapshot_date", "_source_file", F.to_json("record").alias("raw"),
                         *_source_texts(source_columns))
    texts = source.select("snapshot_date", "_source_file", "raw", *text_of)
    typed = texts.select("*", *typed_of)
    return (typed.withColumn("reject_reason", reason)
            .drop(*[f"_text_{f.name}" for f in schema.fields]))


# A source's typing columns are the same expressions for every frame typed by it, and each costs
# several Py4J calls to build: a small silver_oltp night typed its tables some 20 times over and
# spent 2-3 s of its ~20 s building them again. Columns are unresolved expressions, valid for
# any frame of the process, so they are built once per source.
@functools.cache
def _source_texts(source_columns: tuple[str, ...]) -> tuple[Column, ...]:
    """Each source column's text in the record, null when empty."""
    return tuple(F.nullif(F.trim(F.col("record")[c]), F.lit("")).alias(c) for c in source_columns)


@functools.cache
def _typing_columns(expressions: tuple[tuple[str, str], ...], schema: T.StructType,
                    key: tuple[str, ...]) -> tuple[tuple[Column, ...], tuple[Column, ...], Column]:
    """type_snapshot's columns: each project column's text, its typed value, the reject reason."""
    by_name = dict(expressions)
    texts = tuple(F.expr(by_name[f.name]).cast("string").alias(f"_text_{f.name}") for f in schema.fields)
    typed = tuple(typed_value(F.col(f"_text_{f.name}"), f.dataType).alias(f.name) for f in schema.fields)
    reason = F.when(F.lit(False), F.lit(None).cast("string"))
    for column in key:
        reason = reason.when(F.col(f"_text_{column}").isNull(), F.lit(NULL_KEY))
    for field in schema.fields:
        failed = F.col(f"_text_{field.name}").isNotNull() & F.col(field.name).isNull()
        reason = reason.when(failed, F.lit(_failure(field.dataType)))
    for field in schema.fields:
        if not field.nullable:
            reason = reason.when(F.col(field.name).isNull(), F.lit(NULL_KEY if field.name in key else
                                                                   _failure(field.dataType)))
    return texts, typed, reason


def reject_conflicting_duplicates(typed: DataFrame, key: tuple[str, ...]) -> DataFrame:
    """Within one snapshot, a key on several identical rows is kept once; a key on rows
    that disagree is rejected whole (duplicate_key): no row of it can be trusted."""
    per_key = Window.partitionBy("snapshot_date", *key)
    copies = Window.partitionBy("snapshot_date", "raw").orderBy("_source_file")
    valid = F.col("reject_reason").isNull()
    marked = (typed
              .withColumn("_versions", F.size(F.collect_set(F.when(valid, F.col("raw"))).over(per_key)))
              .withColumn("_copy", F.row_number().over(copies)))
    reason = F.when(valid & (F.col("_versions") > 1), F.lit(DUPLICATE_KEY)).otherwise(F.col("reject_reason"))
    return (marked.withColumn("reject_reason", reason)
            .where(F.col("reject_reason").isNotNull() | (F.col("_copy") == 1))
            .drop("_versions", "_copy"))


def reject_orphans(children: DataFrame, parents: DataFrame, column: str, parent_key: str,
                   known_keys: DataFrame | None = None) -> DataFrame:
    """Valid child rows whose `column` names no valid parent row of the same snapshot, nor
    a key of `known_keys` (one column, the parents already loaded), are rejected as
    orphan_foreign_key. (An incremental extract carries a changed payment without its
    unchanged order.)"""
    # renamed: children and parents often come from one DataFrame, where children["snapshot_date"]
    # and parents["snapshot_date"] are the same column and their equality is trivially true
    same_snapshot = (parents.where(F.col("reject_reason").isNull())
                     .select(F.col("snapshot_date").alias("_parent_snapshot"), F.col(parent_key).alias("_parent"))
                     .distinct())
    found = children.join(same_snapshot, (F.col("snapshot_date") == F.col("_parent_snapshot"))
                          & (F.col(column) == F.col("_parent")), "left") \
        .select(children["*"], F.col("_parent").isNotNull().alias("_found"))
    if known_keys is not None:
        earlier = known_keys.select(F.col(known_keys.columns[0]).alias("_known")).distinct()
        found = (found.join(earlier, found[column] == earlier["_known"], "left")
                 .withColumn("_found", F.col("_found") | earlier["_known"].isNotNull()).drop("_known"))
    reason = (F.when(F.col("reject_reason").isNull() & ~F.col("_found"), F.lit(ORPHAN_FOREIGN_KEY))
              .otherwise(F.col("reject_reason")))
    return found.withColumn("reject_reason", reason).drop("_found")


def snapshot_ts(snapshot_date: Column) -> Column:
    """A nightly snapshot shows the database at the end of its date (UTC)."""
    return F.to_timestamp(F.date_add(snapshot_date, 1))


def with_next_date(observations: DataFrame, next_name: str) -> DataFrame:
    """The distinct snapshot dates of `observations`, each with the next one (null for the
    last). A join of the few dates with themselves rather than a window without partitions,
    which Spark warns about and runs on one partition."""
    dates = observations.select("snapshot_date").distinct()
    later = dates.select(F.col("snapshot_date").alias("_later"))
    return (dates.join(F.broadcast(later), F.col("_later") > F.col("snapshot_date"), "left")
            .groupBy("snapshot_date").agg(F.min("_later").alias(next_name)))


def missing_key_shares(observations: DataFrame, key: tuple[str, ...]) -> DataFrame:
    """Per snapshot date (after the first): the share of the previous snapshot's keys that
    it lacks. A large share means a truncated dump rather than mass deletion."""
    pairs = with_next_date(observations, "next_date") \
        .where(F.col("next_date").isNotNull())
    present = observations.select("snapshot_date", *key).distinct()
    before = present.join(pairs, "snapshot_date", "inner")
    after = present.select(F.col("snapshot_date").alias("next_date"), *key, F.lit(True).alias("_kept"))
    return (before.join(after, ["next_date", *key], "left")
            .groupBy("next_date")
            .agg((F.count(F.when(F.col("_kept").isNull(), 1)) / F.count(F.lit(1))).alias("missing_share"))
            .withColumnRenamed("next_date", "snapshot_date"))


def snapshot_pair_counts(rows: DataFrame, key: list[str], last, new) -> DataFrame:
    """missing_key_shares for two snapshots, in one aggregation: one row with `last_rows` (the
    rows of snapshot `last`), `last_keys` and `new_keys` (the keys, none of whose parts is null,
    of `last` and of `new`) and `lost_keys` (those of `last` that `new` lacks). `rows` holds
    snapshot_date and the `key` columns."""
    in_last, in_new = F.col("snapshot_date") == F.lit(last), F.col("snapshot_date") == F.lit(new)
    has_key = functools.reduce(lambda a, b: a & b, [F.col(c).isNotNull() for c in key])
    per_key = rows.groupBy(*key).agg(F.count(F.when(in_last, 1)).alias("_rows"), F.max(in_new).alias("_in_new"))
    was = has_key & (F.col("_rows") > 0)
    return per_key.agg(F.coalesce(F.sum("_rows"), F.lit(0)).alias("last_rows"),
                       F.count(F.when(was, 1)).alias("last_keys"),
                       F.count(F.when(has_key & F.col("_in_new"), 1)).alias("new_keys"),
                       F.count(F.when(was & ~F.col("_in_new"), 1)).alias("lost_keys"))


def scd2_history(observations: DataFrame, key: tuple[str, ...], attributes: tuple[str, ...]) -> DataFrame:
    """SCD type 2 versions from full snapshots (one valid row per key and snapshot_date).

    A version starts when a key first appears, when its attributes change (change_hash),
    or when it reappears after being missing; it starts at the row's updated_at (the
    source's own time of change), or at the snapshot's time when that is not later than
    the previous version's start. A key missing from the next full snapshot gets a deleted
    version starting at that snapshot's time. Built from every snapshot at once, so
    processing snapshots out of order, or twice, gives the same history."""
    return _versions(observations, key, attributes).drop("snapshot_date")


def scd2_extend(dimension: DataFrame, observations: DataFrame, key: tuple[str, ...], attributes: tuple[str, ...],
                last_date, snapshot_dates: tuple | None = None) -> DataFrame:
    """The rows of an SCD type 2 `dimension` that snapshots newer than `last_date` add or
    change: their new versions, and the current version of each key they close.

    `dimension` is scd2_history of every snapshot up to `last_date`; `observations` holds the
    snapshot of `last_date` (which keys it had, with which attributes) and the newer ones.
    MERGEd by key and valid_from into `dimension`, the result equals scd2_history of all
    snapshots, at the cost of the new snapshots rather than of the whole history.
    `observations` may hold only some keys (both snapshots' rows of each), if
    `snapshot_dates` names the snapshots, some of which may then have no row here."""
    key = list(key)
    # the latest start any earlier version proposed: a deleted version's start is its valid_from
    floors = dimension.join(observations.select(*key).distinct(), key, "left_semi").groupBy(*key).agg(
        F.max(F.when(F.col("is_deleted"), F.col("valid_from")).otherwise(F.col("updated_at"))).alias("_floor"))
    newer = F.col("snapshot_date") > F.lit(last_date)
    # the last snapshot shows what each key looked like; it proposes no start of its own
    seen = observations.withColumn("updated_at", F.when(newer, F.col("updated_at")))
    added = _versions(seen, tuple(key), attributes, floors, snapshot_dates).where(newer)
    first = added.groupBy(*key).agg(
        F.min_by("valid_from", F.struct("snapshot_date", "is_deleted")).alias("_closed_at"))
    closed = (dimension.where(F.col("is_current")).join(first, key)
              .withColumn("valid_to", F.col("_closed_at")).withColumn("is_current", F.lit(False)).drop("_closed_at"))
    return added.drop("snapshot_date").unionByName(closed.select(*added.drop("snapshot_date").columns))


def _versions(observations: DataFrame, key: tuple[str, ...], attributes: tuple[str, ...],
              floors: DataFrame | None = None, snapshot_dates: tuple | None = None) -> DataFrame:
    """scd2_history with each version's snapshot_date; `floors` (key, _floor), if given, is
    the latest start that versions before these observations proposed; `snapshot_dates`, if
    given, every snapshot taken (else those the observations hold)."""
    dates = observations if snapshot_dates is None else observations.sparkSession.createDataFrame(
        [(d,) for d in snapshot_dates], "snapshot_date date")
    following = with_next_date(dates, "next_snapshot")
    by_key = Window.partitionBy(*key).orderBy("snapshot_date")
    hashed = (observations
              .withColumn("change_hash", F.sha2(F.to_json(F.struct(*attributes)), 256))
              .join(following, "snapshot_date", "left")
              .withColumn("_prev_hash", F.lag("change_hash").over(by_key))
              .withColumn("_prev_next", F.lag("next_snapshot").over(by_key))
              .withColumn("_next_seen", F.lead("snapshot_date").over(by_key)))
    starts = hashed.where(F.col("_prev_hash").isNull() | (F.col("_prev_hash") != F.col("change_hash"))
                          | (F.col("_prev_next") != F.col("snapshot_date")))
    gone = (hashed.where(F.col("next_snapshot").isNotNull()
                         & (F.col("_next_seen").isNull() | (F.col("_next_seen") != F.col("next_snapshot"))))
            .select(*key, F.col("next_snapshot").alias("snapshot_date")))
    versions = starts.select(*key, "snapshot_date", *attributes, "updated_at", "change_hash",
                             F.lit(False).alias("is_deleted"))
    deleted = gone.select(*key, "snapshot_date", *[F.lit(None).alias(a) for a in (*attributes, "updated_at")],
                          F.lit("deleted").alias("change_hash"), F.lit(True).alias("is_deleted"))
    every = versions.unionByName(deleted, allowMissingColumns=True)
    ordered = Window.partitionBy(*key).orderBy("snapshot_date", "is_deleted")
    proposed = F.when(F.col("is_deleted"), snapshot_ts(F.col("snapshot_date"))).otherwise(F.col("updated_at"))
    previous = F.max(proposed).over(ordered.rowsBetween(Window.unboundedPreceding, -1))
    if floors is not None:
        every = every.join(floors, list(key), "left")
        previous = F.greatest(previous, F.col("_floor"))
    with_from = (every
                 .withColumn("_previous_from", previous)
                 .withColumn("valid_from", F.when(F.col("_previous_from").isNull() | (proposed > F.col("_previous_from")),
                                                  proposed).otherwise(snapshot_ts(F.col("snapshot_date")))))
    return (with_from
            .withColumn("valid_to", F.lead("valid_from").over(ordered))
            .withColumn("is_current", F.col("valid_to").isNull())
            .drop("_previous_from", "_floor"))


def with_keys(rows: DataFrame, source_columns: tuple[str, ...], expressions: dict[str, str], schema: T.StructType,
              columns: tuple[str, ...]) -> DataFrame:
    """Bronze snapshot rows with `_k_<column>` for each of `columns` (project columns, from
    their expressions over the source columns, typed as in `schema`; null when empty or not
    parseable) and `_fingerprint`, a hash of the whole record: what a night compares with the
    snapshot before it, without typing every column."""
    texts = rows.select("*", *_source_texts(source_columns))
    fingerprint = F.xxhash64(F.map_keys("record"), F.map_values("record"))  # maps cannot be hashed; their arrays can
    return texts.select(*rows.columns, fingerprint.alias("_fingerprint"),
                        *[typed_value(F.expr(expressions[c]).cast("string"), schema[c].dataType).alias(f"_k_{c}")
                          for c in columns])


def changed_keys(current: DataFrame, previous: DataFrame, keys: list[str]) -> DataFrame:
    """(snapshot_date, *keys) of every key whose rows in a snapshot (`current`) differ from its
    rows in the snapshot before (`previous`, whose snapshot_date is already the date of the
    snapshot it precedes), the rows compared as multisets of `_fingerprint`: a row added,
    removed, altered or repeated a different number of times. Null keys compare equal."""
    tagged = (current.select("snapshot_date", *keys, "_fingerprint", F.lit(1).alias("_side"))
              .unionByName(previous.select("snapshot_date", *keys, "_fingerprint", F.lit(-1).alias("_side"))))
    return (tagged.groupBy("snapshot_date", *keys, "_fingerprint").agg(F.sum("_side").alias("_balance"))
            .where(F.col("_balance") != 0).select("snapshot_date", *keys).distinct())


def rows_of_keys(rows: DataFrame, keys: DataFrame, columns: list[str]) -> DataFrame:
    """The rows of `rows` whose snapshot_date and `columns` are a row of `keys` (nulls match nulls)."""
    wanted = keys.select(F.col("snapshot_date").alias("_w_date"), *[F.col(c).alias(f"_w{c}") for c in columns])
    match = F.col("snapshot_date") == F.col("_w_date")
    for column in columns:
        match = match & F.col(column).eqNullSafe(F.col(f"_w{column}"))
    return rows.join(wanted, match, "left_semi")
