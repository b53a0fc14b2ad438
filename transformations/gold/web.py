"""gold.web_traffic_daily from silver.page_views (access logs)."""
from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from transformations.gold.common import ratio

TOP_PAGES = 5


def web_traffic_daily(dates: DataFrame, requests: DataFrame) -> DataFrame:
    by_date = F.col("request_date").alias("business_date")
    status_class = (F.col("status") / 100).cast("int")
    totals = requests.groupBy(by_date).agg(
        F.count(F.lit(1)).alias("requests"), F.countDistinct("host_hash").alias("distinct_hosts"),
        F.count(F.when(F.col("is_page_view"), 1)).alias("page_views"),
        F.sum(F.coalesce("bytes", F.lit(0))).alias("bytes"),
        *[F.count(F.when(status_class == n, 1)).alias(f"_{n}xx") for n in (2, 3, 4, 5)],
        F.count(F.when(F.col("is_bot"), 1)).alias("_bots"))
    views = (requests.where(F.col("is_page_view")).groupBy(by_date, "path").agg(F.count(F.lit(1)).alias("views")))
    rank = Window.partitionBy("business_date").orderBy(F.col("views").desc(), F.col("path"))
    top = (views.withColumn("_rank", F.row_number().over(rank)).where(F.col("_rank") <= TOP_PAGES)
           .groupBy("business_date")
           .agg(F.array_sort(F.collect_list(F.struct("_rank", "path", "views"))).alias("_top")))
    rows = dates.join(totals, "business_date", "left").join(top, "business_date", "left")
    return rows.select(
        "business_date", *[F.coalesce(c, F.lit(0)).alias(c) for c in ("requests", "distinct_hosts", "page_views",
                                                                        "bytes")],
        *[ratio(f"_{n}xx", "requests").alias(f"status_{n}xx_share") for n in (2, 3, 4, 5)],
        ratio("_bots", "requests").alias("bot_share"),
        F.coalesce(F.transform("_top", lambda t: F.struct(t["path"].alias("path"), t["views"].alias("page_views"))),
                   F.array()).alias("top_pages"))
