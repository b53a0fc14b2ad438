"""The dates a change to the production facts touches, found once per process for the same
versions: gold_daily_kpis and gold_marketing ask for them in turn in every run; and the
values a change altered, found from the change feed alone."""
import datetime as dt
from decimal import Decimal

from pyspark.sql import functions as F

from jobs.common.delta_log import latest_version
from jobs.common.gold import BuildContext
from jobs.common import io
from jobs.common.gold_changes import differing, differing_rows, payment_dates
from jobs.common.io import append, merge_into, table_path
from schemas.oltp import FACT_ORDERS, FACT_PAYMENTS
from tests.integration.test_ledger import delete_table, jobs_run

NOON = dt.time(12, 0)  # the same business date in UTC and in the test zones


def write_facts(spark, cfg, paid: list[dt.date]) -> tuple[dict, dict]:
    """An order, and one payment of it captured on each of `paid`, each payment a commit of
    its own: (the pinned versions, the change of the last commit)."""
    placed = dt.datetime.combine(paid[0], NOON)
    append(spark.createDataFrame([("o1", "u1", "paid", Decimal("10.00"), "EUR", placed, placed)], FACT_ORDERS.schema),
           cfg, FACT_ORDERS)
    for n, day in enumerate(paid):
        at = dt.datetime.combine(day, NOON)
        row = (f"p{n}", "o1", "card", Decimal("10.00"), "captured", at, None, at)
        append(spark.createDataFrame([row], FACT_PAYMENTS.schema), cfg, FACT_PAYMENTS)
    payments = latest_version(spark, table_path(cfg, FACT_PAYMENTS))
    versions = {FACT_PAYMENTS.full_name: payments, FACT_ORDERS.full_name: latest_version(spark, table_path(cfg, FACT_ORDERS))}
    return versions, {FACT_PAYMENTS.full_name: (payments - 1, payments)}


def test_payment_dates_are_found_once_per_process_for_the_same_versions_of_the_same_tables(spark, cfg):
    d = [dt.date(2024, 3, day) for day in (2, 5, 9, 12)]
    versions, changed = write_facts(spark, cfg, [d[0], d[1]])
    ctx = BuildContext(spark, cfg, versions, (d[0], d[3]))
    assert payment_dates(ctx, changed) == {d[1]}  # the last commit's capture

    # the second job of the run asks the same of the same versions: no Spark job runs
    assert jobs_run(spark, lambda: payment_dates(BuildContext(spark, cfg, versions, (d[0], d[3])), changed)) == 0
    assert payment_dates(ctx, changed) == {d[1]}

    # the same tables consumed from another version are asked anew
    earlier = {FACT_PAYMENTS.full_name: (changed[FACT_PAYMENTS.full_name][0] - 1, versions[FACT_PAYMENTS.full_name])}
    assert jobs_run(spark, lambda: payment_dates(ctx, earlier)) > 0

    # tables created anew at the same paths, up to the same versions, with other dates: asked anew
    # (as another process would: with their contract first)
    for spec in (FACT_PAYMENTS, FACT_ORDERS):
        delete_table(spark, table_path(cfg, spec))
    io._ENSURED.clear()  # this process created them once and would not again
    assert write_facts(spark, cfg, [d[2], d[3]]) == (versions, changed)
    assert payment_dates(BuildContext(spark, cfg, versions, (d[0], d[3])), changed) == {d[3]}


def test_differing_rows_finds_from_the_change_feed_the_values_that_differ_between_two_versions(spark, cfg):
    at = dt.datetime(2024, 3, 2, 12, 0)

    def orders(*rows):  # (order_id, user_id, status, total)
        return spark.createDataFrame([(o, u, s, Decimal(t), "EUR", at, at) for o, u, s, t in rows], FACT_ORDERS.schema)

    append(orders(("o1", "u1", "placed", "10.00"), ("o2", "u1", "placed", "20.00"), ("o3", "u2", "placed", "30.00"),
                  ("o5", "u5", "placed", "50.00")), cfg, FACT_ORDERS)
    consumed = latest_version(spark, table_path(cfg, FACT_ORDERS))
    # o1's total changes and changes back (its middle images cancel out), o2 changes only its
    # status (not a value compared), o3 its user; o4 is new, o5 deleted (by overwriting with the rest)
    merge_into(orders(("o1", "u1", "placed", "11.00"), ("o2", "u1", "paid", "20.00"), ("o4", "u4", "placed", "40.00")),
               cfg, FACT_ORDERS)
    merge_into(orders(("o1", "u1", "placed", "10.00"), ("o2", "u1", "paid", "20.00"), ("o3", "u9", "placed", "30.00"),
                      ("o4", "u4", "placed", "40.00")), cfg, FACT_ORDERS, delete_missing=True)
    now = latest_version(spark, table_path(cfg, FACT_ORDERS))
    ctx = BuildContext(spark, cfg, {FACT_ORDERS.full_name: now}, (at.date(), at.date()))
    changed = {FACT_ORDERS.full_name: (consumed, now)}

    def values(rows):
        return rows.select("order_id", F.struct("user_id", "total_amount").alias("v"))

    def found(rows):
        return sorted((r["order_id"], r["v"]["user_id"], str(r["v"]["total_amount"])) for r in rows.collect())

    expected = [("o3", "u2", "30.00"), ("o3", "u9", "30.00"), ("o4", "u4", "40.00"), ("o5", "u5", "50.00")]
    assert found(differing_rows(ctx, changed, FACT_ORDERS, values)) == expected
    assert found(differing(ctx, changed, FACT_ORDERS, "order_id", values)) == expected  # time travel agrees
    assert differing_rows(ctx, {}, FACT_ORDERS, values) is None  # an unchanged table
