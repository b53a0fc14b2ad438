"""Which business dates a change to the production facts or to gold.customers touches.

Change feeds carry both images of an updated row, so a payment moved from one date to
another touches both."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import functions as F

from jobs.common.gold import BuildContext, Changes
from schemas.gold import CUSTOMERS
from schemas.oltp import FACT_ORDERS, FACT_PAYMENTS
from transformations.gold.common import business_date
from transformations.gold.revenue import captured_orders


def payment_dates(ctx: BuildContext, changed: Changes) -> set[dt.date]:
    """Capture and refund dates of changed payments, and of the payments of changed orders."""
    payments = ctx.changes(FACT_PAYMENTS, changed)
    orders = ctx.changes(FACT_ORDERS, changed)
    if orders is not None:
        of_orders = ctx.read(FACT_PAYMENTS).join(orders.select("order_id").distinct(), "order_id")
        payments = of_orders if payments is None else payments.select(*of_orders.columns).union(of_orders)
    return ctx.dates(payments, business_date("paid_at", ctx.zone), business_date("refunded_at", ctx.zone))


def first_paid_dates(ctx: BuildContext, changed: Changes) -> set[dt.date]:
    """Dates a changed customer's first captured order was (or now is) on."""
    return ctx.dates(ctx.changes(CUSTOMERS, changed), business_date("first_paid_ts", ctx.zone))


def paid_dates_of_changed_customers(ctx: BuildContext, changed: Changes) -> set[dt.date]:
    """Every capture date of a customer whose channel or first order changed."""
    customers = ctx.changes(CUSTOMERS, changed)
    if customers is None:
        return set()
    captured = captured_orders(ctx.read(FACT_PAYMENTS), ctx.read(FACT_ORDERS), ctx.zone)
    return ctx.dates(captured.join(customers.select("user_id").distinct(), "user_id"), F.col("paid_date")) \
        | first_paid_dates(ctx, changed)
