"""Bronze contracts: records exactly as received, plus where and when they came in."""
from pyspark.sql import types as T

from schemas.spec import TableSpec

INGESTION_COLUMNS = [
    T.StructField("_source_file", T.StringType(), nullable=False),
    T.StructField("_ingested_at", T.TimestampType(), nullable=False),
    T.StructField("_batch_id", T.StringType(), nullable=False),
]

RAW_LINES = T.StructType([
    T.StructField("value", T.StringType(), nullable=True),
    *INGESTION_COLUMNS,
    T.StructField("_ingest_date", T.DateType(), nullable=False),
])

EVENTS_RAW = TableSpec(
    "bronze", "events_raw", RAW_LINES, partition_by=("_ingest_date",),
    description="App and web event JSON lines as received, one row per line.",
)
ACCESS_LOGS_RAW = TableSpec(
    "bronze", "access_logs_raw", RAW_LINES, partition_by=("_ingest_date",),
    description="Apache/nginx access-log lines as received, one row per line.",
)
