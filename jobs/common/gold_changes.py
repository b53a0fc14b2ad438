"""Which business dates a change to the production facts, dim_users or gold.customers touches.

The values that matter (a payment's capture and refund dates, an order's total and user, a
user's signup date, a customer's first order and channel) are compared before and after the
change, and only dates whose value really changed are touched. So the daily status changes
of open orders, or a user's new email, rebuild nothing; a payment moved from one date to
another touches both. A value of one row (a payment's dates, an order's total) is compared
within the change feed, whose images of each changed row are its before and after; a value
over several rows (a user's signup date, the least created_at of the user's versions) is
compared between the version last consumed and the current one (Delta time travel), for the
keys the change feed names."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.common.delta_log import table_state
from jobs.common.gold import BuildContext, Changes
from jobs.common.io import read_table, table_path
from schemas.gold import CUSTOMERS
from schemas.oltp import DIM_USERS, FACT_ORDERS, FACT_PAYMENTS
from schemas.spec import TableSpec
from transformations.gold.common import business_date
from transformations.gold.revenue import captured_orders

Values = Callable[[DataFrame], DataFrame]  # table rows -> (key, value) rows

# payment_dates per process: gold_daily_kpis and gold_marketing of one run ask it of the same
# changes. Keyed by each table's path and Delta table id (a table created anew at the same path,
# as in a cleared warehouse, starts its versions again), the version pinned and the version
# consumed, and the business time zone.
_PAYMENT_DATES: dict[tuple, frozenset[dt.date]] = {}


def differing(ctx: BuildContext, changed: Changes, spec: TableSpec, key: str, values: Values) -> DataFrame | None:
    """(key, value) rows present before or after the change but not both, for the keys the
    change feed names; None if the table did not change. For values over several rows of a
    key: both versions of those keys are read."""
    feed = ctx.changes(spec, changed)
    if feed is None:
        return None
    keys = feed.select(key).distinct()
    before = values(read_table(ctx.spark, ctx.cfg, spec, version=changed[spec.full_name][0]).join(keys, key))
    return _on_one_side(before, values(ctx.read(spec).join(keys, key)))


def differing_rows(ctx: BuildContext, changed: Changes, spec: TableSpec, values: Values) -> DataFrame | None:
    """As differing, for values of one row each, from the change feed alone: a row's values
    before the change are in its deleted row or update preimage, after it in its inserted row
    or postimage, so neither version of the table is read. Over several commits a row's middle
    images cancel out."""
    feed = ctx.changes(spec, changed)
    if feed is None:
        return None
    kind = F.col("_change_type")
    return _on_one_side(values(feed.where(kind.isin("delete", "update_preimage"))),
                        values(feed.where(kind.isin("insert", "update_postimage"))))


def _on_one_side(before: DataFrame, after: DataFrame) -> DataFrame:
    """The distinct rows counted more often in `before` than in `after`, or the other way:
    each side counted with a sign, in one aggregation."""
    signed = before.withColumn("_n", F.lit(-1)).unionByName(after.withColumn("_n", F.lit(1)))
    return (signed.groupBy(*before.columns).agg(F.sum("_n").alias("_n"))
            .where(F.col("_n") != 0).drop("_n"))


def payment_dates(ctx: BuildContext, changed: Changes) -> set[dt.date]:
    """Capture and refund dates that changed, and those of payments whose order's total or
    user changed. Found once per process for the same versions of the facts."""
    key = (ctx.zone, *(_table_key(ctx, spec, changed) for spec in (FACT_PAYMENTS, FACT_ORDERS)))
    if key not in _PAYMENT_DATES:
        _PAYMENT_DATES[key] = frozenset(_payment_dates(ctx, changed))
    return set(_PAYMENT_DATES[key])


def _table_key(ctx: BuildContext, spec: TableSpec, changed: Changes) -> tuple:
    path = table_path(ctx.cfg, spec)
    table_id = table_state(ctx.spark, path)[0] if spec.full_name in ctx.versions else None
    return path, table_id, ctx.versions.get(spec.full_name), changed.get(spec.full_name)


def _payment_dates(ctx: BuildContext, changed: Changes) -> set[dt.date]:
    def dates(payments: DataFrame) -> DataFrame:
        return (payments.select("payment_id", business_date("paid_at", ctx.zone).alias("v"))
                .union(payments.select("payment_id", business_date("refunded_at", ctx.zone).alias("v"))))

    touched = ctx.dates(differing_rows(ctx, changed, FACT_PAYMENTS, dates), "v")
    orders = differing_rows(ctx, changed, FACT_ORDERS,
                            lambda rows: rows.select("order_id", F.struct("user_id", "total_amount").alias("v")))
    if orders is not None:
        of_orders = ctx.read(FACT_PAYMENTS).join(orders.select("order_id").distinct(), "order_id")
        touched |= ctx.dates(of_orders, business_date("paid_at", ctx.zone), business_date("refunded_at", ctx.zone))
    return touched


def signup_dates(ctx: BuildContext, changed: Changes) -> set[dt.date]:
    """Signup dates that gained or lost a user."""
    def signups(users: DataFrame) -> DataFrame:
        return users.groupBy("user_id").agg(business_date(F.min("created_at"), ctx.zone).alias("v"))

    return ctx.dates(differing(ctx, changed, DIM_USERS, "user_id", signups), "v")


def first_paid_dates(ctx: BuildContext, changed: Changes) -> set[dt.date]:
    """Dates a customer's first captured order was, or now is, on (where that changed)."""
    return ctx.dates(differing_rows(ctx, changed, CUSTOMERS,
                                    lambda rows: rows.select("user_id", business_date("first_paid_ts", ctx.zone)
                                                             .alias("v"))), "v")


def paid_dates_of_changed_customers(ctx: BuildContext, changed: Changes) -> set[dt.date]:
    """Every capture date of a customer whose channel or first order changed."""
    customers = differing_rows(ctx, changed, CUSTOMERS,
                               lambda rows: rows.select("user_id", F.struct("channel", "first_paid_ts").alias("v")))
    if customers is None:
        return set()
    captured = captured_orders(ctx.read(FACT_PAYMENTS), ctx.read(FACT_ORDERS), ctx.zone)
    return ctx.dates(captured.join(customers.select("user_id").distinct(), "user_id"), F.col("paid_date"))
