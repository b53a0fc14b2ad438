"""Events: from raw JSON lines to typed, validated, deduplicated, pseudonymised rows."""
from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from schemas.events import EVENT_JSON

# Reason codes of rejected event lines (ops.quarantine.reason), checked in this order.
EMPTY_LINE = "empty_line"
MALFORMED_JSON = "malformed_json"
MISSING_FIELD = "missing_required_field"
INVALID_TIMESTAMP = "invalid_timestamp"
FUTURE_TIMESTAMP = "future_timestamp"
UNKNOWN_EVENT_TYPE = "unknown_event_type"

EARLIEST_VALID_TS = "2000-01-01 00:00:00"
# A device clock may run a little ahead of the collector; more than this is a broken clock.
FUTURE_TOLERANCE = "INTERVAL 1 HOUR"
REQUIRED = ("event_id", "event_type", "event_ts_text", "anonymous_id")
# read_contract's shapes of a line (io.github.lakehouse.spark.JsonContract), its SQL function's
# name, and the Spark types it reads
MALFORMED, KNOWN_FIELDS, UNKNOWN_FIELDS = 0, 1, 2
_CONTRACT = "lakehouse_json_contract"
_CONTRACT_TYPES = {T.StringType(): "string", T.LongType(): "long", T.IntegerType(): "int"}
_FILE_HOUR_END = "lakehouse_file_hour_end"  # FileHourEnd's SQL function (see delivery_ts)
_CLIENT_TIMESTAMP = "lakehouse_client_timestamp"  # ClientTimestamp's (see parse_timestamp)
_ISO_FORMATS = ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "yyyy-MM-dd'T'HH:mm:ssXXX")
_NAIVE_FORMATS = ("yyyy-MM-dd HH:mm:ss.SSS", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.SSS",
                  "yyyy-MM-dd'T'HH:mm:ss")


def parse_timestamp(spark: SparkSession, text: Column) -> Column:
    """A client timestamp as a UTC timestamp, or null if it is in no supported format.

    Epoch numbers with 12 or more digits are milliseconds, shorter ones seconds; ISO-8601
    with Z or an offset is converted to UTC; naive text is UTC by the collector's contract
    (the session time zone is UTC). The shapes nearly every client sends (epoch numbers up
    to 13 digits, ISO-8601 and naive text with milliseconds) are read at fixed positions by
    the project's ClientTimestamp (jvm/src); only other text goes through the formats below,
    whose parse through java.time was a fifth of silver_events' parse. `spark` is the
    session of the DataFrame it is used on."""
    zone = spark.conf.get("spark.sql.session.timeZone")
    register_java_function(spark, "ClientTimestamp", _CLIENT_TIMESTAMP, T.LongType(), zone)
    return F.coalesce(F.timestamp_micros(F.call_function(_CLIENT_TIMESTAMP, text)), timestamp_by_formats(text))


def timestamp_by_formats(text: Column) -> Column:
    """parse_timestamp by Spark's own functions alone: what ClientTimestamp's answers are
    held to, and the answer for the text it does not read."""
    trimmed = F.trim(text)
    number = trimmed.try_cast("bigint")
    is_number = trimmed.rlike(r"^-?[0-9]+$")
    as_text = [F.try_to_timestamp(trimmed, F.lit(fmt)) for fmt in _ISO_FORMATS + _NAIVE_FORMATS]
    return (F.when(is_number & (F.length(F.regexp_replace(trimmed, "-", "")) >= 12), F.timestamp_millis(number))
            .when(is_number, F.timestamp_seconds(number))
            .otherwise(F.coalesce(*as_text)))


def delivery_ts(spark: SparkSession, source_file: Column, ingested_at: Column) -> Column:
    """When a line was delivered: the end of the hour in its file name (collectors name
    files by arrival hour, events_YYYY-MM-DDTHH...), else the time it was ingested.

    The hour is the first yyyy-MM-ddTHH in the name after the last '/', in the session's
    time zone. The project's FileHourEnd (jvm/src) finds it once per file, not per line: a
    regex search and a date parse on each line were 5% of silver_events' parse."""
    zone = spark.conf.get("spark.sql.session.timeZone")
    register_java_function(spark, "FileHourEnd", _FILE_HOUR_END, T.LongType(), zone)
    return F.coalesce(F.timestamp_seconds(F.call_function(_FILE_HOUR_END, source_file)), ingested_at)


def register_java_function(spark: SparkSession, class_name: str, sql_name: str, return_type: T.DataType,
                           *args) -> None:
    """Register io.github.lakehouse.spark.<class_name>(*args), a Java UDF1 of the project's
    jar returning `return_type`, as `sql_name` in `spark`: the session of the DataFrame it is
    used on (a streaming batch's session is a clone of the job's, which would not see it)."""
    jvm = spark._jvm  # pylint: disable=protected-access
    java_class = getattr(jvm.io.github.lakehouse.spark, class_name)
    if not callable(java_class):  # py4j's placeholder for a package: the class is not on the class path
        raise RuntimeError(f"io.github.lakehouse.spark.{class_name} is not on Spark's class path: run `make setup`, "
                           "which builds .jars/lakehouse-hadoop.jar from jvm/src, and pass that jar to Spark")
    spark._jsparkSession.udf().register(  # pylint: disable=protected-access
        sql_name, java_class(*args), jvm.org.apache.spark.sql.types.DataType.fromJson(return_type.json()))


def contract_leaves(contract: T.StructType) -> list[tuple[str, T.DataType]]:
    """Every leaf field of a JSON contract as (path, type), in order: a top-level field, or
    `struct.name` for a field of a top-level struct."""
    leaves = []
    for field in contract.fields:
        if isinstance(field.dataType, T.StructType):
            leaves += [(f"{field.name}.{inner.name}", inner.dataType) for inner in field.dataType.fields]
        else:
            leaves.append((field.name, field.dataType))
    return leaves


def leaf_name(path: str) -> str:
    """The column read_contract gives a leaf at `path`: its last name (context.ip is `ip`)."""
    return path.split(".")[-1]


def read_contract(spark: SparkSession, line: Column, contract: T.StructType) -> Column:
    """Each line read against `contract` (string, long and int fields, and structs of them):
    a struct of every leaf field's value, named by its last name (context.ip is `ip`);
    `_rescued`, the line's top-level fields outside the contract as a map of their JSON text
    (null when there are none), so that a field new clients send is kept, not lost; and
    `shape`: MALFORMED (not exactly one JSON object with the contract's types: spaces before
    it, JSON whitespace after it; all else null), KNOWN_FIELDS (one whose top-level fields
    are all in the contract) or UNKNOWN_FIELDS (one with some other top-level field).

    The values, and which lines are malformed, are those of Spark's from_json in PERMISSIVE
    mode with the same schema, plus the one-object rule: from_json stops after the first JSON
    value, so '{..}}' or two objects glued together would pass it. The project's JsonContract
    (jvm/src, built into .jars/lakehouse-hadoop.jar by `make setup`) does it all in one pass
    over the line, called from generated code, where from_json, the check of its shape and
    fields, and from_json to a map for the rescue took three: from_json alone was 42% of
    silver_events' parse. The rescued map gives what from_json to a map of strings gave for
    those fields (a string's text, null, or the JSON text of any other value), but a field
    named twice is kept once, with its last value. `spark` is the session of the DataFrame it
    is used on."""
    leaves = contract_leaves(contract)
    unreadable = [f"{path}: {dtype.simpleString()}" for path, dtype in leaves if dtype not in _CONTRACT_TYPES]
    if unreadable:
        raise ValueError("read_contract reads string, bigint and int fields, at the top level or in a struct there; "
                         f"not {unreadable}")
    names = [leaf_name(path) for path, _ in leaves]
    if len(set(names)) != len(names) or {"_rescued", "shape"} & set(names):
        raise ValueError(f"the contract's leaf names must be unique and not '_rescued' or 'shape': {names}")
    spec = ",".join(f"{path}:{_CONTRACT_TYPES[dtype]}" for path, dtype in leaves)
    row = T.StructType([T.StructField(name, dtype) for name, (_, dtype) in zip(names, leaves)]
                       + [T.StructField("_rescued", T.MapType(T.StringType(), T.StringType())),
                          T.StructField("shape", T.IntegerType())])
    register_java_function(spark, "JsonContract", _CONTRACT, row, spec)
    return F.call_function(_CONTRACT, line)


def parse_events(raw: DataFrame, business_time_zone: str, known_types: tuple[str, ...]) -> DataFrame:
    """Parse raw event lines (value, _source_file, _ingested_at, _batch_id).

    Returns one row per line: the typed event columns (as in silver.events, before
    pseudonymisation: `ip` and `email` are still clear text), `_rescued` (see
    read_contract), the raw `value` and `reject_reason` (null for a valid event)."""
    parsed = raw.withColumn("j", read_contract(raw.sparkSession, F.col("value"), EVENT_JSON))
    event_ts = parse_timestamp(raw.sparkSession, F.col("j.event_ts"))
    delivered = delivery_ts(raw.sparkSession, F.col("_source_file"), F.col("_ingested_at"))
    names = [leaf_name(path) for path, _ in contract_leaves(EVENT_JSON)]
    typed = parsed.select(
        "value", "_source_file", "_ingested_at", "_batch_id", F.col("j.shape").alias("shape"),
        *[(event_ts if name == "event_ts" else F.col(f"j.{name}")).alias(name) for name in names],
        F.col("j._rescued").alias("_rescued"), F.col("j.event_ts").alias("event_ts_text"),
        delivered.alias("delivered_ts"))
    missing = F.lit(False)
    for name in REQUIRED:
        missing = missing | F.col(name).isNull() | (F.trim(F.col(name)) == "")
    reason = (F.when(F.trim(F.coalesce("value", F.lit(""))) == "", F.lit(EMPTY_LINE))
              .when(F.col("shape") == MALFORMED, F.lit(MALFORMED_JSON))
              .when(missing, F.lit(MISSING_FIELD))
              .when(F.col("event_ts").isNull() | (F.col("event_ts") < F.lit(EARLIEST_VALID_TS).cast("timestamp")),
                    F.lit(INVALID_TIMESTAMP))
              .when(F.col("event_ts") > F.col("delivered_ts") + F.expr(FUTURE_TOLERANCE), F.lit(FUTURE_TIMESTAMP))
              .when(~F.col("event_type").isin(*known_types), F.lit(UNKNOWN_EVENT_TYPE)))
    return (typed
            .withColumn("reject_reason", reason)
            .withColumn("event_date", F.to_date(F.from_utc_timestamp("event_ts", business_time_zone)))
            .drop("shape", "delivered_ts", "event_ts_text"))


def id_hash() -> Column:
    """event_id as a 64-bit hash: what the dedupe shuffles and broadcasts instead of the id
    itself (8 bytes, not a string of 32 characters or more)."""
    return F.xxhash64("event_id")


def repeated_event_ids(events: DataFrame) -> DataFrame:
    """Every id_hash() on more than one row (`_id_hash`), with its number of rows (`copies`):
    the only ids dedupe_events has to rank. A shuffle of the hashes alone, not of the events.
    Two different ids with the same hash (among 20M ids, about one chance in 100,000) are
    counted as one repeated id; that only sends their rows to be ranked by their ids, where
    each keeps its own first copy."""
    return (events.groupBy(id_hash().alias("_id_hash")).agg(F.count(F.lit(1)).alias("copies"))
            .where(F.col("copies") > 1))


def first_copies(events: DataFrame) -> DataFrame:
    """One row per event_id by ranking every row of each id: the earliest-ingested copy wins
    (then the first file name), so the choice does not depend on batch order. Shuffles and
    sorts every row by id; dedupe_events does it only for the ids that repeat."""
    window = Window.partitionBy("event_id").orderBy("_ingested_at", "_source_file")
    return (events.withColumn("_copy", F.row_number().over(window))
            .where(F.col("_copy") == 1).drop("_copy"))


def dedupe_events(events: DataFrame, repeated: DataFrame | None = None, repeated_partitions: int | None = None
                  ) -> DataFrame:
    """One row per event_id: at-least-once delivery repeats lines. The same rows as
    first_copies(events), for less work.

    Only the rows of a repeated id are shuffled and ranked; the others (95% of the bench's
    events) pass a broadcast anti-join where they are, so they are neither shuffled nor
    sorted by id. The two halves are told apart by id_hash(): an id seen once that shares a
    hash with a repeated one is ranked too, alone, and kept. `repeated` is
    repeated_event_ids(events): both halves read it, so a caller on big data computes it once
    and caches it (left to this function, each half counts the ids again). The hashes are
    broadcast, so a caller with very many of them ranks every row with first_copies instead.
    The ranked rows come out in `repeated_partitions` partitions if given, so they add that
    many files per date to a write, not one per shuffle partition. event_id is never null
    here (parse_events rejects such lines)."""
    hashes = F.broadcast((repeated if repeated is not None else repeated_event_ids(events)).select("_id_hash"))
    keyed = events.withColumn("_id_hash", id_hash())
    once = keyed.join(hashes, "_id_hash", "left_anti").drop("_id_hash")
    first = first_copies(keyed.join(hashes, "_id_hash", "left_semi").drop("_id_hash"))
    if repeated_partitions:
        first = first.coalesce(repeated_partitions)
    return once.unionByName(first)


def pseudonymise(df: DataFrame, key: DataFrame, columns: dict[str, str]) -> DataFrame:
    """Replace clear-text PII columns by a keyed SHA-256 (`{hashed: clear}`).

    `key` is a one-row DataFrame with column `pseudonym_key`; joining it, rather than
    writing the key into an expression, keeps it out of query plans and event logs."""
    keyed = df.crossJoin(F.broadcast(key))
    for hashed, clear in columns.items():
        keyed = keyed.withColumn(hashed, F.when(F.col(clear).isNotNull(),
                                                F.sha2(F.concat_ws("\u0000", "pseudonym_key", F.lower(F.trim(clear))),
                                                       256)))
    return keyed.drop("pseudonym_key", *columns.values())
