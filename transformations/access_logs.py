"""Access logs: Common / Combined Log Format lines to typed requests."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from transformations.common import with_regex_groups
from transformations.quarantine import line_key

EMPTY_LINE = "empty_line"
MALFORMED_LINE = "malformed_line"
INVALID_TIMESTAMP = "invalid_timestamp"

# host ident authuser [time] "request" status bytes, then optionally "referer" "user-agent"
LOG_LINE = r'^(\S+) (\S+) (\S+) \[([^\]]+)\] "(.*)" (\d{3}) (\d+|-)(?: "(.*)" "(.*)")?\s*$'
# METHOD URI [PROTOCOL]; HTTP/0.9 requests have no protocol, and some URIs contain spaces
REQUEST = r"^(\S+)\s+(.*?)(?:\s+(HTTP/\d(?:\.\d)?))?\s*$"
BOT_AGENT = r"(?i)bot|crawl|spider|slurp|curl|wget|python-requests|httpclient|headless|scrapy"
STATIC_PATH = r"(?i)\.(js|css|png|jpe?g|gif|ico|svg|webp|woff2?|ttf|eot|map|xbm|bmp|mpg|wav)$"


def parse_access_log(raw: DataFrame, business_time_zone: str) -> DataFrame:
    """Parse raw log lines (value, _source_file, _ingested_at, _batch_id).

    Returns one row per line with the typed request columns (`host` still clear text),
    `record_id` identifying the physical line, the raw `value`, and `reject_reason`
    (null when the line is a valid request). Times keep the offset each server logged."""
    lines = raw.select("value", "_source_file", "_ingested_at", "_batch_id", line_key().alias("record_id"))
    parsed = with_regex_groups(lines, "value", LOG_LINE, ["host", "ident", "authuser", "time_text", "request",
                                                          "status_text", "bytes_text", "referrer", "user_agent"],
                               matched="_matched")
    parsed = with_regex_groups(parsed, "request", REQUEST, ["method_text", "path_text", "protocol_text"])
    request_ts = F.try_to_timestamp(F.col("time_text"), F.lit("dd/MMM/yyyy:HH:mm:ss Z"))
    agent = F.nullif(F.col("user_agent"), F.lit(""))
    typed = parsed.select(
        "value", "_source_file", "_ingested_at", "_batch_id", "record_id", "_matched", "host",
        request_ts.alias("request_ts"),
        F.nullif(F.col("method_text"), F.lit("")).alias("method"),
        F.nullif(F.col("path_text"), F.lit("")).alias("path"),
        F.nullif(F.col("protocol_text"), F.lit("")).alias("protocol"),
        F.col("status_text").try_cast("int").alias("status"),
        F.when(F.col("bytes_text") != "-", F.col("bytes_text").try_cast("bigint")).alias("bytes"),
        F.when(~F.col("referrer").isin("", "-"), F.col("referrer")).alias("referrer"),
        F.when(agent != "-", agent).alias("user_agent"),
    )
    is_bot = F.coalesce(F.col("user_agent").rlike(BOT_AGENT), F.lit(False))
    is_static = F.coalesce(F.regexp_replace("path", r"[?#].*$", "").rlike(STATIC_PATH), F.lit(False))
    reason = (F.when(F.trim(F.coalesce("value", F.lit(""))) == "", F.lit(EMPTY_LINE))
              .when(~F.col("_matched"), F.lit(MALFORMED_LINE))
              .when(F.col("request_ts").isNull(), F.lit(INVALID_TIMESTAMP)))
    return (typed
            .withColumn("is_bot", is_bot)
            .withColumn("is_static", is_static)
            .withColumn("is_page_view", (F.col("method") == "GET") & ~is_bot & ~is_static
                        & (F.col("status") < 400))
            .withColumn("request_date", F.to_date(F.from_utc_timestamp("request_ts", business_time_zone)))
            .withColumn("reject_reason", reason)
            .drop("_matched"))
