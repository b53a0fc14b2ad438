"""Ad-spend CSV lines -> typed rows, each bad line with the reason it is rejected."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from schemas.marketing import AD_SPEND_COLUMNS, AD_SPEND_HEADER

# one more column than a valid line has, so a line with too many fields is seen
_WIDE = ", ".join(f"`{name}` STRING" for name in (*AD_SPEND_COLUMNS, "_extra"))


def parse_ad_spend(lines: DataFrame) -> DataFrame:
    """Rows of bronze.marketing_raw (value, ingestion columns) -> the ad_spend columns plus
    reject_reason (null when valid). Header lines are dropped; quoted fields may hold commas
    and doubled quotes (RFC 4180)."""
    text = F.trim(F.col("value"))
    body = lines.where(text.isNull() | (F.lower(F.regexp_replace(text, r"\s", "")) != AD_SPEND_HEADER))
    row = F.from_csv(F.col("value"), _WIDE, {"escape": '"', "mode": "PERMISSIVE"})
    parsed = body.withColumn("_csv", row)
    field = {name: F.trim(F.col(f"_csv.{name}")) for name in (*AD_SPEND_COLUMNS, "_extra")}
    spend_date = F.try_to_date(field["spend_date"], "yyyy-MM-dd")
    spend = field["spend"].try_cast("decimal(12,2)")
    impressions, clicks = field["impressions"].try_cast("bigint"), field["clicks"].try_cast("bigint")
    reason = (F.when(text.isNull() | (text == ""), "empty_line")
              .when(field["spend"].isNull() | field["_extra"].isNotNull(), "malformed_line")
              .when(spend_date.isNull(), "invalid_date")
              .when(field["channel"].isNull() | (field["channel"] == ""), "missing_channel")
              .when(spend.isNull() | (spend < 0), "invalid_amount")
              .when((field["impressions"].isNotNull() & impressions.isNull())
                    | (field["clicks"].isNotNull() & clicks.isNull()), "invalid_amount"))
    return parsed.select(
        spend_date.alias("spend_date"), F.lower(field["channel"]).alias("channel"),
        F.coalesce(field["campaign"], F.lit("")).alias("campaign"), spend.alias("spend"),
        F.coalesce(F.upper(field["currency"]), F.lit("USD")).alias("currency"),
        impressions.alias("impressions"), clicks.alias("clicks"),
        reason.alias("reject_reason"), "value", "_source_file", "_ingested_at", "_batch_id")
