"""The table registry: every table the project writes, declared once."""
from __future__ import annotations

from schemas import bronze, events, gold, marketing, oltp, ops, web
from schemas.spec import TableSpec

ALL_TABLES: tuple[TableSpec, ...] = (
    bronze.EVENTS_RAW,
    bronze.ACCESS_LOGS_RAW,
    marketing.MARKETING_RAW,
    events.EVENTS,
    events.SESSIONS,
    web.PAGE_VIEWS,
    marketing.AD_SPEND,
    oltp.OLTP_SNAPSHOTS,
    oltp.DIM_USERS,
    oltp.DIM_PRODUCTS,
    oltp.FACT_ORDERS,
    oltp.FACT_ORDER_ITEMS,
    oltp.FACT_PAYMENTS,
    oltp.ORDER_STATUS_HISTORY,
    *gold.HELPERS,
    *gold.KPI_TABLES,
    ops.JOB_RUNS,
    ops.QUARANTINE,
    ops.TABLE_BUILDS,
    ops.GOLD_BUILDS,
)

BY_NAME: dict[str, TableSpec] = {spec.full_name: spec for spec in ALL_TABLES}
