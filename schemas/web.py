"""Web-server access logs (Apache/nginx Common and Combined Log Format) in silver."""
from pyspark.sql import types as T

from schemas.bronze import INGESTION_COLUMNS
from schemas.spec import TableSpec

PAGE_VIEWS_SCHEMA = T.StructType([
    T.StructField("record_id", T.StringType(), nullable=False),
    T.StructField("request_ts", T.TimestampType(), nullable=False),
    T.StructField("request_date", T.DateType(), nullable=False),
    T.StructField("host_hash", T.StringType(), nullable=False),
    T.StructField("method", T.StringType(), nullable=True),
    T.StructField("path", T.StringType(), nullable=True),
    T.StructField("protocol", T.StringType(), nullable=True),
    T.StructField("status", T.IntegerType(), nullable=False),
    T.StructField("bytes", T.LongType(), nullable=True),
    T.StructField("referrer", T.StringType(), nullable=True),
    T.StructField("user_agent", T.StringType(), nullable=True),
    T.StructField("is_bot", T.BooleanType(), nullable=False),
    T.StructField("is_static", T.BooleanType(), nullable=False),
    T.StructField("is_page_view", T.BooleanType(), nullable=False),
    *INGESTION_COLUMNS,
])

PAGE_VIEWS = TableSpec(
    "silver", "page_views", PAGE_VIEWS_SCHEMA, partition_by=("request_date",), keys=("record_id",),
    description="Every valid access-log request, typed, with bot, static-asset and page-view flags.",
    change_feed=True, stats_columns=("record_id", "request_ts", "host_hash", "status"),
)
