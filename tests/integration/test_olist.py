"""The real Olist e-commerce sample, loaded end to end by conf/sources/olist.yaml alone, and
checked against totals computed from the CSV files without Spark."""
import collections
import csv
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs.common.io import read_table, table_exists
from schemas.oltp import DIM_PRODUCTS, DIM_USERS, FACT_ORDER_ITEMS, FACT_ORDERS, FACT_PAYMENTS
from schemas.ops import QUARANTINE
from tests.conftest import test_config
from tests.integration.world_helpers import run_jobs

pytestmark = pytest.mark.realdata
SNAPSHOT = "2018-10-17"
FILES = {"customers": "olist_customers_dataset.csv", "products": "olist_products_dataset.csv",
         "orders": "olist_orders_dataset.csv", "order_items": "olist_order_items_dataset.csv",
         "payments": "olist_order_payments_dataset.csv"}


@pytest.fixture(scope="module")
def olist(spark, shared_datasets, tmp_path_factory):
    cfg = test_config(tmp_path_factory.mktemp("olist"), "oltp.sources=sources/olist.yaml")
    for source, name in FILES.items():  # copied into a temporary landing dir, never into the project
        folder = Path(cfg.paths.landing) / "oltp" / source / SNAPSHOT
        folder.mkdir(parents=True)
        shutil.copyfile(shared_datasets / "olist_ecommerce_sample" / name, folder / f"{source}.csv")
    run_jobs(spark, cfg, "bronze_oltp", "silver_oltp")
    return cfg, shared_datasets / "olist_ecommerce_sample"


def read_rows(folder: Path, name: str) -> list[dict]:
    with (folder / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_olist_loads_every_row_of_every_table(spark, olist):
    cfg, _ = olist
    counts = {spec.name: read_table(spark, cfg, spec).count()
              for spec in (DIM_USERS, DIM_PRODUCTS, FACT_ORDERS, FACT_ORDER_ITEMS, FACT_PAYMENTS)}
    # SOURCE.md: 10,000 orders and customers, 11,513 items, 10,415 payments, 32,951 products
    assert counts == {"dim_users": 10000, "dim_products": 32951, "fact_orders": 10000,
                      "fact_order_items": 11513, "fact_payments": 10415}
    assert not table_exists(spark, cfg, QUARANTINE)  # nothing was rejected, so nothing was quarantined


def test_olist_orders_and_payment_value_per_month_match_the_csv_files(spark, olist):
    cfg, folder = olist
    month_of = {r["order_id"]: r["order_purchase_timestamp"][:7] for r in read_rows(folder, FILES["orders"])}
    expected_orders = collections.Counter(month_of.values())
    expected_value = collections.defaultdict(Decimal)
    for payment in read_rows(folder, FILES["payments"]):
        expected_value[month_of[payment["order_id"]]] += Decimal(payment["payment_value"])

    local_month = F.date_format(F.from_utc_timestamp("placed_at", "America/Sao_Paulo"), "yyyy-MM")
    orders = read_table(spark, cfg, FACT_ORDERS).select("order_id", local_month.alias("month"))
    actual_orders = {r["month"]: r["count"] for r in orders.groupBy("month").count().collect()}
    value = (read_table(spark, cfg, FACT_PAYMENTS).join(orders, "order_id", "inner")
             .groupBy("month").agg(F.sum("amount").alias("value")).collect())
    assert actual_orders == dict(expected_orders)
    assert {r["month"]: r["value"] for r in value} == dict(expected_value)


def test_olist_hashes_addresses_and_keeps_purchase_times(spark, olist):
    cfg, _ = olist
    users = read_table(spark, cfg, DIM_USERS)
    assert "address" not in users.columns and users.where(F.length("address_hash") != 64).count() == 0
    assert users.where(F.col("country") != "BR").count() == 0
    first = read_table(spark, cfg, FACT_ORDERS).agg(F.min("placed_at")).first()[0]
    assert first.date() >= dt.date(2016, 10, 4) and first.year == 2016  # SOURCE.md: purchases from 2016-10-04
