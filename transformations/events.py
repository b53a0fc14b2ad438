"""Events: from raw JSON lines to typed, validated, deduplicated, pseudonymised rows."""
from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from schemas.events import EVENT_JSON, EVENT_JSON_FIELDS

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
_CORRUPT = "_corrupt_record"
_ISO_FORMATS = ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "yyyy-MM-dd'T'HH:mm:ssXXX")
_NAIVE_FORMATS = ("yyyy-MM-dd HH:mm:ss.SSS", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.SSS",
                  "yyyy-MM-dd'T'HH:mm:ss")


def parse_timestamp(text: Column) -> Column:
    """A client timestamp as a UTC timestamp, or null if it is in no supported format.

    Epoch numbers with 12 or more digits are milliseconds, shorter ones seconds; ISO-8601
    with Z or an offset is converted to UTC; naive text is UTC by the collector's contract
    (the session time zone is UTC)."""
    trimmed = F.trim(text)
    number = trimmed.try_cast("bigint")
    is_number = trimmed.rlike(r"^-?[0-9]+$")
    as_text = [F.try_to_timestamp(trimmed, F.lit(fmt)) for fmt in _ISO_FORMATS + _NAIVE_FORMATS]
    return (F.when(is_number & (F.length(F.regexp_replace(trimmed, "-", "")) >= 12), F.timestamp_millis(number))
            .when(is_number, F.timestamp_seconds(number))
            .otherwise(F.coalesce(*as_text)))


def delivery_ts(source_file: Column, ingested_at: Column) -> Column:
    """When a line was delivered: the end of the hour in its file name (collectors name
    files by arrival hour, events_YYYY-MM-DDTHH...), else the time it was ingested."""
    stamp = F.regexp_extract(source_file, r"(\d{4}-\d{2}-\d{2}T\d{2})[^/]*$", 1)
    hour = F.try_to_timestamp(F.nullif(stamp, F.lit("")), F.lit("yyyy-MM-dd'T'HH"))
    return F.coalesce(hour + F.expr("INTERVAL 1 HOUR"), ingested_at)


def parse_events(raw: DataFrame, business_time_zone: str, known_types: tuple[str, ...]) -> DataFrame:
    """Parse raw event lines (value, _source_file, _ingested_at, _batch_id).

    Returns one row per line: the typed event columns (as in silver.events, before
    pseudonymisation: `ip` and `email` are still clear text), the raw `value`, and
    `reject_reason`, null for a valid event."""
    schema = T.StructType(EVENT_JSON.fields + [T.StructField(_CORRUPT, T.StringType())])
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": _CORRUPT}
    parsed = (raw
              .withColumn("j", F.from_json("value", schema, options))
              # from_json stops after the first JSON value and ignores what follows, so
              # '{..}}' or two objects glued together would pass; the line wrapped as
              # [line,{}] parses to exactly two maps, the second empty, only when it is
              # exactly one object. The first map also carries every top-level field.
              .withColumn("envelope", F.from_json(F.concat(F.lit("["), "value", F.lit(",{}]")),
                                                  T.ArrayType(T.MapType(T.StringType(), T.StringType()))))
              .withColumn("all_fields", F.col("envelope")[0]))
    event_ts = parse_timestamp(F.col("j.event_ts"))
    delivered = delivery_ts(F.col("_source_file"), F.col("_ingested_at"))
    known_fields = F.array(*[F.lit(name) for name in EVENT_JSON_FIELDS])
    rescued = F.map_filter("all_fields", lambda k, _v: ~F.array_contains(known_fields, k))
    typed = parsed.select(
        "value", "_source_file", "_ingested_at", "_batch_id", "j",
        ((F.size("envelope") == 2) & (F.size(F.col("envelope")[1]) == 0)).alias("is_single_object"),
        F.col("j.event_id").alias("event_id"), F.col("j.event_type").alias("event_type"),
        event_ts.alias("event_ts"), F.col("j.event_ts").alias("event_ts_text"), delivered.alias("delivered_ts"),
        F.col("j.anonymous_id").alias("anonymous_id"), F.col("j.user_id").alias("user_id"),
        F.col("j.platform").alias("platform"),
        *[F.col(f"j.context.{name}").alias(name) for name in
          ("ip", "user_agent", "page_path", "referrer", "utm_source", "utm_medium", "utm_campaign")],
        *[F.col(f"j.properties.{name}").alias(name) for name in
          ("product_id", "quantity", "price_cents", "order_id", "amount_cents", "experiment_id", "variant",
           "email", "element")],
        F.when(F.size(rescued) > 0, rescued).alias("_rescued"),
    )
    missing = F.lit(False)
    for name in REQUIRED:
        missing = missing | F.col(name).isNull() | (F.trim(F.col(name)) == "")
    reason = (F.when(F.trim(F.coalesce("value", F.lit(""))) == "", F.lit(EMPTY_LINE))
              .when(F.col("j").isNull() | F.col(f"j.{_CORRUPT}").isNotNull()
                    | ~F.coalesce(F.col("is_single_object"), F.lit(False)), F.lit(MALFORMED_JSON))
              .when(missing, F.lit(MISSING_FIELD))
              .when(F.col("event_ts").isNull() | (F.col("event_ts") < F.lit(EARLIEST_VALID_TS).cast("timestamp")),
                    F.lit(INVALID_TIMESTAMP))
              .when(F.col("event_ts") > F.col("delivered_ts") + F.expr(FUTURE_TOLERANCE), F.lit(FUTURE_TIMESTAMP))
              .when(~F.col("event_type").isin(*known_types), F.lit(UNKNOWN_EVENT_TYPE)))
    return (typed
            .withColumn("reject_reason", reason)
            .withColumn("event_date", F.to_date(F.from_utc_timestamp("event_ts", business_time_zone)))
            .drop("j", "is_single_object", "delivered_ts", "event_ts_text"))


def dedupe_events(events: DataFrame) -> DataFrame:
    """One row per event_id: at-least-once delivery repeats lines. The earliest-ingested
    copy wins (then the first file name), so the choice does not depend on batch order."""
    window = Window.partitionBy("event_id").orderBy("_ingested_at", "_source_file")
    return (events.withColumn("_copy", F.row_number().over(window))
            .where(F.col("_copy") == 1).drop("_copy"))


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
