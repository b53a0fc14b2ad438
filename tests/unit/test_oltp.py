"""Typing, validation and SCD type 2 of production snapshots."""
import datetime as dt
from decimal import Decimal

from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql import types as T

from schemas.oltp import TYPED
from transformations.oltp import (missing_key_shares, reject_conflicting_duplicates, reject_orphans, scd2_extend,
                                  scd2_history, snapshot_pair_counts, type_snapshot)

D1, D2, D3 = dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 3)
SNAPSHOT = "snapshot_date date, record map<string,string>, _source_file string"
ORDER_COLUMNS = ("order_id", "user_id", "status", "total_amount", "currency", "placed_at", "updated_at")


def order(order_id="1", total="12.50", updated="2024-03-01 10:00:00.000", day=D1, **extra):
    record = {"order_id": order_id, "user_id": "7", "status": "paid", "total_amount": total, "currency": "USD",
              "placed_at": "2024-03-01 09:00:00.000", "updated_at": updated, **extra}
    return (day, record, "f.csv")


def typed_orders(spark, rows):
    expressions = {c: c for c in ORDER_COLUMNS}
    return type_snapshot(spark.createDataFrame(rows, SNAPSHOT), ORDER_COLUMNS, expressions, TYPED["orders"],
                         ("order_id",))


def test_type_snapshot_types_values(spark):
    row = typed_orders(spark, [order()]).first()
    assert row["total_amount"] == Decimal("12.50") and row["reject_reason"] is None
    assert row["updated_at"] == dt.datetime(2024, 3, 1, 10, 0)


def test_type_snapshot_rejects_with_reasons(spark):
    rows = [order(order_id=""), order(order_id="2", total="12,34"), order(order_id="3", updated="31/02/2024 10:00"),
            order(order_id="4", updated="")]
    reasons = {r["order_id"] or "": r["reject_reason"] for r in typed_orders(spark, rows).collect()}
    assert reasons == {"": "null_key", "2": "unparseable_number", "3": "unparseable_date", "4": "unparseable_date"}


def test_type_snapshot_applies_column_expressions(spark):
    rows = spark.createDataFrame([(D1, {"id": "9", "cents": "1250", "ts": "2024-03-01"}, "f")], SNAPSHOT)
    schema = T.StructType([T.StructField("order_id", T.StringType(), False),
                           T.StructField("total_amount", T.DecimalType(12, 2)),
                           T.StructField("updated_at", T.TimestampType(), False)])
    typed = type_snapshot(rows, ("id", "cents", "ts"), {"order_id": "concat('o-', id)",
                                                        "total_amount": "cast(cents AS int) / 100",
                                                        "updated_at": "ts"}, schema, ("order_id",)).first()
    assert (typed["order_id"], typed["total_amount"]) == ("o-9", Decimal("12.50"))


def test_reject_conflicting_duplicates_keeps_one_identical_copy_and_rejects_conflicts(spark):
    rows = [order("1"), order("1"), order("2", total="1.00"), order("2", total="2.00")]
    result = reject_conflicting_duplicates(typed_orders(spark, rows), ("order_id",)).collect()
    assert sorted((r["order_id"], r["reject_reason"]) for r in result) == [
        ("1", None), ("2", "duplicate_key"), ("2", "duplicate_key")]


def test_reject_orphans_rejects_children_without_a_parent_in_the_same_snapshot(spark):
    parents = typed_orders(spark, [order("1")])
    children = spark.createDataFrame([(D1, "1", None), (D1, "2", None), (D2, "1", None)],
                                     "snapshot_date date, order_id string, reject_reason string")
    result = reject_orphans(children, parents, "order_id", "order_id")
    expected = spark.createDataFrame([(D1, "1", None), (D1, "2", "orphan_foreign_key"), (D2, "1", "orphan_foreign_key")],
                                     children.schema)
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_reject_orphans_compares_snapshots_when_children_and_parents_share_one_frame(spark):
    # as in silver_oltp: both sides filtered from the same snapshot rows, so their
    # snapshot_date columns are one column unless the join renames one side
    rows = spark.createDataFrame([("orders", D1, "1", None), ("items", D1, "1", None), ("items", D2, "1", None)],
                                 "source_table string, snapshot_date date, order_id string, reject_reason string")
    parents = rows.where(F.col("source_table") == "orders")
    children = rows.where(F.col("source_table") == "items")
    result = {(r["snapshot_date"], r["reject_reason"]) for r in
              reject_orphans(children, parents, "order_id", "order_id").collect()}
    assert result == {(D1, None), (D2, "orphan_foreign_key")}


OBS = "id string, snapshot_date date, updated_at timestamp, country string"


def history(spark, rows):
    observations = spark.createDataFrame(rows, OBS)
    return {(r["id"], r["valid_from"], r["valid_to"], r["country"], r["is_current"], r["is_deleted"])
            for r in scd2_history(observations, ("id",), ("country",)).collect()}


def ts(day, hour=0):
    return dt.datetime(day.year, day.month, day.day, hour)


def test_scd2_history_opens_a_version_on_change_and_closes_the_old_one(spark):
    rows = [("a", D1, ts(D1, 1), "KR"), ("a", D2, ts(D1, 1), "KR"), ("a", D3, ts(D3, 5), "US")]
    assert history(spark, rows) == {("a", ts(D1, 1), ts(D3, 5), "KR", False, False),
                                    ("a", ts(D3, 5), None, "US", True, False)}


def test_scd2_history_gives_a_missing_key_a_deleted_version(spark):
    rows = [("a", D1, ts(D1, 1), "KR"), ("b", D1, ts(D1, 2), "US"), ("b", D2, ts(D1, 2), "US")]
    assert history(spark, rows) == {("a", ts(D1, 1), ts(D2 + dt.timedelta(days=1)), "KR", False, False),
                                    ("a", ts(D2 + dt.timedelta(days=1)), None, None, True, True),
                                    ("b", ts(D1, 2), None, "US", True, False)}


def test_scd2_history_is_the_same_whatever_the_row_order(spark):
    rows = [("a", D1, ts(D1, 1), "KR"), ("a", D2, ts(D2, 3), "JP"), ("a", D3, ts(D2, 3), "JP")]
    assert history(spark, rows) == history(spark, list(reversed(rows)))


D4, D5 = D3 + dt.timedelta(days=1), D3 + dt.timedelta(days=2)
# every way a key's history can go across five snapshots: unchanged, changed, gone and back,
# new late, gone for good, a change whose updated_at goes backwards, a touch without a change
EVERY_CASE = [
    *[("same", d, ts(D1, 1), "KR") for d in (D1, D2, D3, D4, D5)],
    ("moves", D1, ts(D1, 1), "KR"), ("moves", D2, ts(D1, 1), "KR"), ("moves", D3, ts(D3, 4), "US"),
    ("moves", D4, ts(D3, 4), "US"), ("moves", D5, ts(D5, 2), "JP"),
    ("returns", D1, ts(D1, 2), "KR"), ("returns", D2, ts(D1, 2), "KR"), ("returns", D4, ts(D1, 2), "KR"),
    ("returns", D5, ts(D1, 2), "KR"),
    ("late", D4, ts(D4, 3), "FR"), ("late", D5, ts(D4, 3), "FR"),
    ("leaves", D1, ts(D1, 3), "DE"), ("leaves", D2, ts(D1, 3), "DE"), ("leaves", D3, ts(D1, 3), "DE"),
    ("back_clock", D1, ts(D2, 9), "KR"), ("back_clock", D2, ts(D2, 9), "KR"), ("back_clock", D3, ts(D1, 5), "US"),
    ("back_clock", D4, ts(D1, 6), "JP"), ("back_clock", D5, ts(D1, 6), "JP"),
    ("touched", D1, ts(D1, 1), "KR"), ("touched", D2, ts(D5, 23), "KR"), ("touched", D3, ts(D3, 1), "US"),
    ("touched", D4, ts(D3, 1), "US"),
    ("early_gone", D1, ts(D1, 1), "KR"), ("early_gone", D3, ts(D3, 2), "KR"),
]


def test_scd2_extend_merged_into_the_history_equals_a_rebuild_from_every_snapshot(spark):
    observations = spark.createDataFrame(EVERY_CASE, OBS)
    rebuilt = scd2_history(observations, ("id",), ("country",))
    for last in (D2, D3):
        before = scd2_history(observations.where(F.col("snapshot_date") <= last), ("id",), ("country",))
        changes = scd2_extend(before, observations.where(F.col("snapshot_date") >= last), ("id",), ("country",), last)
        merged = before.join(changes, ["id", "valid_from"], "left_anti").unionByName(changes)
        assert_df_equality(merged, rebuilt, ignore_row_order=True, ignore_column_order=True, ignore_nullable=True)
    assert rebuilt.count() == 20  # the cases above open this many versions: they are not trivial


def test_scd2_extend_rewrites_only_the_closed_versions(spark):
    observations = spark.createDataFrame(EVERY_CASE, OBS)
    before = scd2_history(observations.where(F.col("snapshot_date") <= D4), ("id",), ("country",))
    changes = scd2_extend(before, observations.where(F.col("snapshot_date") >= D4), ("id",), ("country",), D4)
    assert {(r["id"], r["is_current"]) for r in changes.collect()} == {
        ("moves", False), ("moves", True), ("touched", False), ("touched", True)}


def test_missing_key_shares_measures_lost_keys_per_snapshot(spark):
    rows = [(k, D1, ts(D1), "X") for k in "abcd"] + [(k, D2, ts(D1), "X") for k in "ab"]
    shares = {r["snapshot_date"]: r["missing_share"]
              for r in missing_key_shares(spark.createDataFrame(rows, OBS), ("id",)).collect()}
    assert shares == {D2: 0.5}


def test_snapshot_pair_counts_gives_the_lost_keys_of_missing_key_shares_in_one_row(spark):
    schema = "snapshot_date date, id string, part string"
    rows = ([(D1, k, "x") for k in "abcd"] + [(D1, "a", "x"), (D1, None, "x"), (D1, "e", None)]  # a twice; null parts
            + [(D2, k, "x") for k in "abz"] + [(D2, None, "x"), (D3, "c", "x")])  # D3: neither of the pair
    counts = snapshot_pair_counts(spark.createDataFrame(rows, schema), ["id", "part"], D1, D2)
    expected = spark.createDataFrame([(7, 4, 3, 2)], "last_rows long, last_keys long, new_keys long, lost_keys long")
    assert_df_equality(counts, expected, ignore_nullable=True)
    observations = spark.createDataFrame([(r[1], r[0], r[2]) for r in rows if r[0] != D3 and None not in r],
                                         "id string, snapshot_date date, part string")
    assert missing_key_shares(observations, ("id", "part")).first()["missing_share"] == 2 / 4


def test_snapshot_pair_counts_of_an_empty_last_snapshot_are_zero(spark):
    rows = spark.createDataFrame([(D2, "a")], "snapshot_date date, id string")
    assert snapshot_pair_counts(rows, ["id"], D1, D2).first().asDict() == {
        "last_rows": 0, "last_keys": 0, "new_keys": 1, "lost_keys": 0}


def test_type_snapshot_empty_input_gives_empty_output(spark):
    assert typed_orders(spark, []).where(F.col("reject_reason").isNull()).count() == 0
