"""The event collector's JSON contract (landing/events) and the silver tables built from it."""
from pyspark.sql import types as T

from schemas.bronze import INGESTION_COLUMNS
from schemas.spec import TableSpec

KNOWN_EVENT_TYPES = ("page_view", "click", "add_to_cart", "checkout", "purchase", "signup", "login",
                     "experiment_exposure")

# As sent by clients. event_ts is read as text: clients send ISO-8601 with Z or an offset,
# naive 'yyyy-MM-dd HH:mm:ss.SSS' (UTC by contract), or epoch milliseconds as a number.
EVENT_JSON = T.StructType([
    T.StructField("event_id", T.StringType()),
    T.StructField("event_type", T.StringType()),
    T.StructField("event_ts", T.StringType()),
    T.StructField("anonymous_id", T.StringType()),
    T.StructField("user_id", T.LongType()),
    T.StructField("platform", T.StringType()),
    T.StructField("context", T.StructType([
        T.StructField("ip", T.StringType()),
        T.StructField("user_agent", T.StringType()),
        T.StructField("page_path", T.StringType()),
        T.StructField("referrer", T.StringType()),
        T.StructField("utm_source", T.StringType()),
        T.StructField("utm_medium", T.StringType()),
        T.StructField("utm_campaign", T.StringType()),
    ])),
    T.StructField("properties", T.StructType([
        T.StructField("product_id", T.LongType()),
        T.StructField("quantity", T.IntegerType()),
        T.StructField("price_cents", T.LongType()),
        T.StructField("order_id", T.LongType()),
        T.StructField("amount_cents", T.LongType()),
        T.StructField("experiment_id", T.StringType()),
        T.StructField("variant", T.StringType()),
        T.StructField("email", T.StringType()),
        T.StructField("element", T.StringType()),
    ])),
])
EVENT_JSON_FIELDS = tuple(field.name for field in EVENT_JSON.fields)

EVENTS_SCHEMA = T.StructType([
    T.StructField("event_id", T.StringType(), nullable=False),
    T.StructField("event_type", T.StringType(), nullable=False),
    T.StructField("event_ts", T.TimestampType(), nullable=False),
    T.StructField("event_date", T.DateType(), nullable=False),
    T.StructField("anonymous_id", T.StringType(), nullable=False),
    T.StructField("user_id", T.LongType(), nullable=True),
    T.StructField("platform", T.StringType(), nullable=True),
    T.StructField("ip_hash", T.StringType(), nullable=True),
    T.StructField("user_agent", T.StringType(), nullable=True),
    T.StructField("page_path", T.StringType(), nullable=True),
    T.StructField("referrer", T.StringType(), nullable=True),
    T.StructField("utm_source", T.StringType(), nullable=True),
    T.StructField("utm_medium", T.StringType(), nullable=True),
    T.StructField("utm_campaign", T.StringType(), nullable=True),
    T.StructField("product_id", T.LongType(), nullable=True),
    T.StructField("quantity", T.IntegerType(), nullable=True),
    T.StructField("price_cents", T.LongType(), nullable=True),
    T.StructField("order_id", T.LongType(), nullable=True),
    T.StructField("amount_cents", T.LongType(), nullable=True),
    T.StructField("experiment_id", T.StringType(), nullable=True),
    T.StructField("variant", T.StringType(), nullable=True),
    T.StructField("email_hash", T.StringType(), nullable=True),
    T.StructField("element", T.StringType(), nullable=True),
    # top-level fields the contract does not know yet, kept as raw JSON text, not lost
    T.StructField("_rescued", T.MapType(T.StringType(), T.StringType()), nullable=True),
    *INGESTION_COLUMNS,
])

EVENTS = TableSpec(
    "silver", "events", EVENTS_SCHEMA, partition_by=("event_date",), keys=("event_id",),
    description="Typed, deduplicated events; UTC timestamps, business-date partitions, PII hashed.",
    change_feed=True, stats_columns=("event_id", "event_type", "event_ts", "anonymous_id", "user_id"),
)

SESSIONS_SCHEMA = T.StructType([
    T.StructField("session_id", T.StringType(), nullable=False),
    T.StructField("session_date", T.DateType(), nullable=False),
    T.StructField("anonymous_id", T.StringType(), nullable=False),
    T.StructField("user_id", T.LongType(), nullable=True),
    T.StructField("person_id", T.StringType(), nullable=False),
    T.StructField("started_ts", T.TimestampType(), nullable=False),
    T.StructField("ended_ts", T.TimestampType(), nullable=False),
    T.StructField("duration_s", T.LongType(), nullable=False),
    T.StructField("event_count", T.LongType(), nullable=False),
    T.StructField("page_count", T.LongType(), nullable=False),
    T.StructField("platform", T.StringType(), nullable=True),
    T.StructField("device", T.StringType(), nullable=True),
    T.StructField("entry_page", T.StringType(), nullable=True),
    T.StructField("entry_referrer", T.StringType(), nullable=True),
    T.StructField("utm_source", T.StringType(), nullable=True),
    T.StructField("utm_medium", T.StringType(), nullable=True),
    T.StructField("utm_campaign", T.StringType(), nullable=True),
    T.StructField("is_converted", T.BooleanType(), nullable=False),
    # how many funnel steps (schemas.gold.FUNNEL_STEPS) the session reached in order, 0-4
    T.StructField("funnel_steps", T.IntegerType(), nullable=False),
    # the session's events per business date they fall on (two dates for a session that runs
    # past midnight), by date: what gold.user_activity_daily counts. Never null inside either,
    # but Delta takes no NOT NULL constraint within an array.
    T.StructField("days", T.ArrayType(T.StructType([
        T.StructField("event_date", T.DateType()),
        T.StructField("events", T.LongType()),
        T.StructField("purchased", T.BooleanType()),
    ])), nullable=False),
])

SESSIONS = TableSpec(
    "silver", "sessions", SESSIONS_SCHEMA, partition_by=("session_date",), keys=("session_id",),
    description="30-minute inactivity sessions per device, stitched to the user who logs in.",
    change_feed=True, stats_columns=("session_id", "anonymous_id", "person_id", "started_ts"),
)
