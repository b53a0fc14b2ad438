"""Third-party ad-spend files (landing/marketing/ad_spend_<date>.csv): bronze lines, silver rows."""
from pyspark.sql import types as T

from schemas.bronze import INGESTION_COLUMNS, RAW_LINES
from schemas.spec import TableSpec

# the columns of a delivered file, in order, as text
AD_SPEND_COLUMNS = ("spend_date", "channel", "campaign", "spend", "currency", "impressions", "clicks")
AD_SPEND_HEADER = "date,channel,campaign,spend,currency,impressions,clicks"

MARKETING_RAW = TableSpec(
    "bronze", "marketing_raw", RAW_LINES, partition_by=("_ingest_date",),
    description="Ad-spend CSV lines as received, one row per line.",
)
AD_SPEND = TableSpec(
    "silver", "ad_spend", T.StructType([
        T.StructField("spend_date", T.DateType(), nullable=False),
        T.StructField("channel", T.StringType(), nullable=False),
        T.StructField("campaign", T.StringType(), nullable=False),
        T.StructField("spend", T.DecimalType(12, 2), nullable=False),
        T.StructField("currency", T.StringType(), nullable=False),
        T.StructField("impressions", T.LongType(), nullable=True),
        T.StructField("clicks", T.LongType(), nullable=True),
        *INGESTION_COLUMNS,
    ]),
    partition_by=("spend_date",), keys=("spend_date", "channel", "campaign"),
    description="Ad spend per date, channel and campaign, typed; bad lines quarantined.",
    change_feed=True,
)
