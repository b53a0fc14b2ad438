"""The table registry: every table the project writes, declared once."""
from __future__ import annotations

from schemas import bronze, events, ops, web
from schemas.spec import TableSpec

ALL_TABLES: tuple[TableSpec, ...] = (
    bronze.EVENTS_RAW,
    bronze.ACCESS_LOGS_RAW,
    events.EVENTS,
    events.SESSIONS,
    web.PAGE_VIEWS,
    ops.JOB_RUNS,
    ops.QUARANTINE,
    ops.TABLE_BUILDS,
)

BY_NAME: dict[str, TableSpec] = {spec.full_name: spec for spec in ALL_TABLES}
