"""Gold contracts: the KPI tables of docs/METRICS.md, and two compact helper tables they are
built from (daily per-person activity, and one row per customer)."""
from pyspark.sql import types as T

from schemas.spec import TableSpec

REVENUE = T.DecimalType(18, 2)


def _fields(*fields):
    return T.StructType([T.StructField(name, kind, nullable=nullable) for name, kind, nullable in fields])


_DATE = ("business_date", T.DateType(), False)
_COUNT = T.LongType()
_RATIO = T.DoubleType()

USER_ACTIVITY = TableSpec(
    "gold", "user_activity_daily", _fields(
        ("activity_date", T.DateType(), False), ("person_id", T.StringType(), False),
        ("user_id", T.StringType(), True), ("events", _COUNT, False), ("purchased", T.BooleanType(), False)),
    partition_by=("activity_date",), keys=("activity_date", "person_id"),
    description="One row per business date and person with an event (sessions stitched to users): "
                "DAU, WAU, MAU, visitors and retention read this, never the raw events.",
    change_feed=True,
)
CUSTOMERS = TableSpec(
    "gold", "customers", _fields(
        ("user_id", T.StringType(), False), ("first_session_ts", T.TimestampType(), True),
        ("channel", T.StringType(), False), ("first_paid_ts", T.TimestampType(), True)),
    keys=("user_id",),
    description="One row per user seen in sessions or payments: first-touch channel and first captured order.",
    change_feed=True,
)
DAILY_KPIS = TableSpec(
    "gold", "daily_kpis", _fields(
        _DATE, ("gross_revenue", REVENUE, False), ("refunds", REVENUE, False), ("net_revenue", REVENUE, False),
        ("orders", _COUNT, False), ("average_order_value", _RATIO, True), ("signups", _COUNT, False),
        ("dau", _COUNT, False), ("wau", _COUNT, False), ("mau", _COUNT, False), ("stickiness", _RATIO, True),
        ("paying_users", _COUNT, False), ("new_paying_users", _COUNT, False), ("arpu", _RATIO, True),
        ("arppu", _RATIO, True), ("visitors", _COUNT, False), ("buyers", _COUNT, False),
        ("visitor_conversion", _RATIO, True)),
    keys=("business_date",), description="Headline KPIs per business date.",
)
FUNNEL_STEPS = ("view", "add_to_cart", "checkout", "purchase")
FUNNEL_DAILY = TableSpec(
    "gold", "funnel_daily", _fields(
        _DATE, ("sessions", _COUNT, False),
        *[f for step in FUNNEL_STEPS for f in ((f"{step}_sessions", _COUNT, False), (f"{step}_rate", _RATIO, True))]),
    keys=("business_date",), description="Sessions by start date reaching each funnel step in order.",
)
RETENTION_COHORTS = TableSpec(
    "gold", "retention_cohorts", _fields(
        ("cohort_week", T.DateType(), False), ("weeks_since_signup", T.IntegerType(), False),
        ("cohort_users", _COUNT, False), ("retained_users", _COUNT, False), ("retained_share", _RATIO, True)),
    keys=("cohort_week", "weeks_since_signup"),
    description="Weekly signup cohorts (Monday weeks) and the share active in each later week.",
)
MARKETING_DAILY = TableSpec(
    "gold", "marketing_daily", _fields(
        _DATE, ("channel", T.StringType(), False), ("spend", REVENUE, False), ("new_customers", _COUNT, False),
        ("attributed_revenue", REVENUE, False), ("cac", _RATIO, True), ("roas", _RATIO, True)),
    keys=("business_date", "channel"),
    description="Spend, first-touch new customers and revenue, CAC and ROAS per date and channel.",
)
EXPERIMENT_RESULTS = TableSpec(
    "gold", "experiment_results", _fields(
        _DATE, ("experiment_id", T.StringType(), False), ("variant", T.StringType(), False),
        ("exposed_users", _COUNT, False), ("converted_users", _COUNT, False), ("conversion_rate", _RATIO, True),
        ("lift", _RATIO, True), ("p_value", _RATIO, True), ("srm_p_value", _RATIO, True),
        ("srm_flag", T.BooleanType(), False)),
    keys=("business_date", "experiment_id", "variant"),
    description="Cumulative A/B results per date: conversion, lift, z-test p-value, sample-ratio check.",
)
# Delta enforces no NOT NULL inside arrays, so the element fields are declared nullable
TOP_PAGE = T.StructType([T.StructField("path", T.StringType(), True),
                         T.StructField("page_views", _COUNT, True)])
WEB_TRAFFIC_DAILY = TableSpec(
    "gold", "web_traffic_daily", _fields(
        _DATE, ("requests", _COUNT, False), ("distinct_hosts", _COUNT, False), ("page_views", _COUNT, False),
        ("bytes", _COUNT, False), ("status_2xx_share", _RATIO, True), ("status_3xx_share", _RATIO, True),
        ("status_4xx_share", _RATIO, True), ("status_5xx_share", _RATIO, True), ("bot_share", _RATIO, True),
        ("top_pages", T.ArrayType(TOP_PAGE, containsNull=True), False)),
    keys=("business_date",), description="Access-log traffic per business date.",
)
KPI_TABLES = (DAILY_KPIS, FUNNEL_DAILY, RETENTION_COHORTS, MARKETING_DAILY, EXPERIMENT_RESULTS, WEB_TRAFFIC_DAILY)
HELPERS = (USER_ACTIVITY, CUSTOMERS)
