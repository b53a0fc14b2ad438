"""A night's dumps against the dumps before them: which keys changed, and their rows."""
import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import functions as F

from schemas.oltp import TYPED
from transformations.oltp import changed_keys, rows_of_keys, scd2_extend, scd2_history, with_keys

D1, D2 = dt.date(2024, 3, 1), dt.date(2024, 3, 2)
SNAPSHOT = "snapshot_date date, source_table string, record map<string,string>, _source_file string"
ITEM_COLUMNS = ("order_id", "line_number", "product_id", "quantity", "unit_price", "updated_at")


def item(order_id, line, price="9.99", day=D2):
    record = {"order_id": order_id, "line_number": line, "product_id": "5", "quantity": "1", "unit_price": price,
              "updated_at": "2024-03-01 10:00:00"}
    return (day, "order_items", record, f"{day}.csv")


def keyed(spark, rows):
    frame = spark.createDataFrame(rows, SNAPSHOT)
    return with_keys(frame, ITEM_COLUMNS, {c: c for c in TYPED["order_items"].fieldNames()}, TYPED["order_items"],
                     ("order_id", "line_number"))


def test_with_keys_types_the_keys_and_fingerprints_the_record(spark):
    rows = keyed(spark, [item(" 7 ", "1"), item("", "2"), item("x", "3"), item("7", "1")]).collect()
    assert [(r["_k_order_id"], r["_k_line_number"]) for r in rows] == [("7", 1), (None, 2), ("x", 3), ("7", 1)]
    assert rows[0]["_fingerprint"] != rows[3]["_fingerprint"]  # " 7 " and "7" are different records
    assert len({r["_fingerprint"] for r in rows}) == 4


def test_changed_keys_are_those_whose_rows_differ_as_multisets(spark):
    before = [item("1", "1", day=D1), item("2", "1", day=D1), item("3", "1", day=D1), item("4", "1", day=D1),
              item("4", "1", day=D1), item("", "9", day=D1), item("6", "1", day=D1)]
    now = [item("1", "1"),                      # unchanged
           item("2", "1", price="8.00"),        # altered
           item("4", "1"),                      # was there twice: once now
           item("5", "1"),                      # new
           item("", "9"),                       # an empty key, unchanged: nulls compare equal
           item("6", "1"), item("6", "1", price="1.00")]  # a second, conflicting row
    previous = keyed(spark, before).withColumn("snapshot_date", F.lit(D2))
    keys = changed_keys(keyed(spark, now), previous, ["_k_order_id", "_k_line_number"])
    expected = spark.createDataFrame([(D2, "2", 1), (D2, "3", 1), (D2, "4", 1), (D2, "5", 1), (D2, "6", 1)],
                                     "snapshot_date date, _k_order_id string, _k_line_number int")
    assert_df_equality(keys, expected, ignore_row_order=True, ignore_nullable=True, ignore_column_order=True)


def test_rows_of_keys_takes_every_row_of_a_key_nulls_included(spark):
    rows = keyed(spark, [item("6", "1"), item("6", "1", price="1.00"), item("", "9"), item("7", "1")])
    keys = spark.createDataFrame([(D2, "6", 1), (D2, None, 9), (D1, "7", 1)],
                                 "snapshot_date date, _k_order_id string, _k_line_number int")
    found = rows_of_keys(rows, keys, ["_k_order_id", "_k_line_number"]).collect()
    assert sorted((r["_k_order_id"] or "", r["record"]["unit_price"]) for r in found) == [("", "9.99"), ("6", "1.00"),
                                                                                          ("6", "9.99")]


def test_scd2_extend_over_only_the_changed_keys_equals_a_rebuild_from_every_snapshot(spark):
    """A night's observations hold only the keys whose rows differ between the last snapshot
    and the new one; the snapshot dates are given, since a night of only new keys has no row
    of the last snapshot (nor one of the new snapshot when keys only leave)."""
    from tests.unit.test_oltp import EVERY_CASE, OBS
    observations = spark.createDataFrame(EVERY_CASE, OBS)
    rebuilt = scd2_history(observations, ("id",), ("country",))
    dates, skipped = sorted({row[1] for row in EVERY_CASE}), 0
    for last, new in zip(dates, dates[1:]):
        before = scd2_history(observations.where(F.col("snapshot_date") <= last), ("id",), ("country",))
        pair = observations.where(F.col("snapshot_date").isin(last, new))
        per_key = pair.groupBy("id").agg(F.count_distinct("updated_at", "country").alias("n"),
                                         F.count("*").alias("rows"))
        unchanged = per_key.where((F.col("n") == 1) & (F.col("rows") == 2)).select("id")
        changed = pair.join(unchanged, "id", "left_anti")
        skipped += unchanged.count()
        changes = scd2_extend(before, changed, ("id",), ("country",), last, (last, new))
        merged = before.join(changes, ["id", "valid_from"], "left_anti").unionByName(changes)
        expected = scd2_history(observations.where(F.col("snapshot_date") <= new), ("id",), ("country",))
        assert_df_equality(merged, expected, ignore_row_order=True, ignore_column_order=True, ignore_nullable=True)
    assert rebuilt.count() == 20
    assert skipped >= 8  # the nights did leave keys out ("same" every night)


def test_a_night_on_which_a_key_only_leaves_gives_it_a_deleted_version(spark):
    from tests.unit.test_oltp import OBS, ts
    rows = [("a", D1, ts(D1, 1), "KR"), ("b", D1, ts(D1, 2), "US"), ("a", D2, ts(D1, 1), "KR")]
    observations = spark.createDataFrame(rows, OBS)
    before = scd2_history(observations.where(F.col("snapshot_date") == D1), ("id",), ("country",))
    changes = scd2_extend(before, observations.where(F.col("id") == "b"), ("id",), ("country",), D1, (D1, D2))
    merged = before.join(changes, ["id", "valid_from"], "left_anti").unionByName(changes)
    assert_df_equality(merged, scd2_history(observations, ("id",), ("country",)), ignore_row_order=True,
                       ignore_column_order=True, ignore_nullable=True)
    assert {(r["id"], r["is_deleted"]) for r in changes.collect()} == {("b", False), ("b", True)}
