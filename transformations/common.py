"""Helpers every domain uses."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from schemas.spec import TableSpec


def conform(df: DataFrame, spec: TableSpec) -> DataFrame:
    """Exactly the contract's columns, in order, cast to the contract's types: the last
    step before a write."""
    return df.select(*[F.col(field.name).cast(field.dataType).alias(field.name) for field in spec.schema.fields])
