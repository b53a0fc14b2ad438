"""Helpers every domain uses."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from schemas.spec import TableSpec


def conform(df: DataFrame, spec: TableSpec) -> DataFrame:
    """Exactly the contract's columns, in order, cast to the contract's types: the last
    step before a write."""
    return df.select(*[F.col(field.name).cast(field.dataType).alias(field.name) for field in spec.schema.fields])


_SEP = "\u0001"  # a control character that log text almost never contains


def with_regex_groups(df: DataFrame, text: str, pattern: str, names: list[str],
                      matched: str | None = None) -> DataFrame:
    """`df` plus, if named, column `matched` (whether column `text` matches the anchored `pattern`,
    ^...$) and one column per group 1..len(names) ("" for a group that took no part, or for
    text that does not match): rlike and regexp_extract, with one regex pass instead of
    len(names) + 1.

    A match is rewritten to SEP group1 SEP group2 ... and split on SEP; text that does not
    match comes back unchanged, so without SEP. Text that contains SEP itself cannot be
    split safely and takes the slow path, one regexp_extract per group."""
    value = F.col(text)
    slow = F.when(value.rlike(pattern),
                  F.array(F.lit(""), *[F.regexp_extract(value, pattern, i) for i in range(1, len(names) + 1)]))
    rewritten = F.regexp_replace(value, pattern, "".join(f"{_SEP}${i}" for i in range(1, len(names) + 1)))
    pieces = F.when(F.instr(value, _SEP) == 0, F.split(rewritten, _SEP)).otherwise(F.coalesce(slow, F.array(value)))
    # A separate projection: the optimiser keeps the regex pass computed once, not once per use.
    split = df.withColumn("_regex_pieces", pieces)
    is_match = F.size("_regex_pieces") > 1
    if matched:
        split = split.withColumn(matched, is_match)
    return (split
            .select("*", *[F.when(is_match, F.col("_regex_pieces")[i]).otherwise(F.lit("")).alias(name)
                           for i, name in enumerate(names, start=1)])
            .drop("_regex_pieces"))
