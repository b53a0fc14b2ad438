"""Small helpers shared by the gold transformations."""
from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F


def business_date(ts: str | Column, zone: str) -> Column:
    """The calendar date of a UTC instant in the business time zone."""
    return F.to_date(F.from_utc_timestamp(ts, zone))


def _column(column: str | Column) -> Column:
    return F.col(column) if isinstance(column, str) else column


def ratio(numerator: str | Column, denominator: str | Column) -> Column:
    """numerator / denominator as a double; null when the denominator is zero or null."""
    den = _column(denominator)
    return F.when(den != 0, _column(numerator).cast("double") / den.cast("double"))


def zero(column: str, kind: str = "bigint") -> Column:
    """A column that was left-joined in, with 0 for a date without rows."""
    return F.coalesce(F.col(column), F.lit(0).cast(kind)).alias(column)
