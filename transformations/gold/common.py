"""Small helpers shared by the gold transformations."""
from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F


def business_date(ts: str | Column, zone: str) -> Column:
    """The calendar date of a UTC instant in the business time zone."""
    return F.to_date(F.from_utc_timestamp(ts, zone))


def ratio(numerator: str | Column, denominator: str | Column) -> Column:
    """numerator / denominator as a double; null when the denominator is zero or null."""
    num, den = F.col(numerator) if isinstance(numerator, str) else numerator, \
        F.col(denominator) if isinstance(denominator, str) else denominator
    return F.when(den != 0, num.cast("double") / den.cast("double"))


def zero(column: str, kind: str = "bigint") -> Column:
    """A column that was left-joined in, with 0 for a date without rows."""
    return F.coalesce(F.col(column), F.lit(0).cast(kind)).alias(column)
