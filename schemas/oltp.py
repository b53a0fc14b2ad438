"""Production-database snapshots: bronze as received, silver typed (SCD2 dims, MERGEd facts)."""
from pyspark.sql import types as T

from schemas.bronze import INGESTION_COLUMNS
from schemas.spec import TableSpec

MONEY = T.DecimalType(12, 2)

SNAPSHOTS_SCHEMA = T.StructType([
    T.StructField("source_table", T.StringType(), nullable=False),
    T.StructField("snapshot_date", T.DateType(), nullable=False),
    T.StructField("record", T.MapType(T.StringType(), T.StringType()), nullable=False),
    *INGESTION_COLUMNS,
])
OLTP_SNAPSHOTS = TableSpec(
    "bronze", "oltp_snapshots", SNAPSHOTS_SCHEMA, partition_by=("source_table", "snapshot_date"),
    description="Every row of every nightly dump as text, by source table and snapshot date.",
    change_feed=True,
)


def _fields(*fields):
    return [T.StructField(name, kind, nullable=nullable) for name, kind, nullable in fields]


# The typed columns of each project table, before history columns are added.
TYPED = {
    "users": T.StructType(_fields(
        ("user_id", T.StringType(), False), ("email", T.StringType(), True), ("full_name", T.StringType(), True),
        ("address", T.StringType(), True), ("country", T.StringType(), True),
        ("marketing_consent", T.BooleanType(), True), ("created_at", T.TimestampType(), True),
        ("updated_at", T.TimestampType(), False))),
    "products": T.StructType(_fields(
        ("product_id", T.StringType(), False), ("sku", T.StringType(), True), ("name", T.StringType(), True),
        ("category", T.StringType(), True), ("price", MONEY, True), ("currency", T.StringType(), True),
        ("created_at", T.TimestampType(), True), ("updated_at", T.TimestampType(), False))),
    "orders": T.StructType(_fields(
        ("order_id", T.StringType(), False), ("user_id", T.StringType(), True), ("status", T.StringType(), False),
        ("total_amount", MONEY, True), ("currency", T.StringType(), True), ("placed_at", T.TimestampType(), True),
        ("updated_at", T.TimestampType(), False))),
    "order_items": T.StructType(_fields(
        ("order_id", T.StringType(), False), ("line_number", T.IntegerType(), False),
        ("product_id", T.StringType(), True), ("quantity", T.IntegerType(), True), ("unit_price", MONEY, True),
        ("updated_at", T.TimestampType(), False))),
    "payments": T.StructType(_fields(
        ("payment_id", T.StringType(), False), ("order_id", T.StringType(), False), ("method", T.StringType(), True),
        ("amount", MONEY, True), ("status", T.StringType(), True), ("paid_at", T.TimestampType(), True),
        ("refunded_at", T.TimestampType(), True), ("updated_at", T.TimestampType(), False))),
}
# Each snapshot row points to its parent in the same snapshot: (table, column, parent table).
FOREIGN_KEYS = (("order_items", "order_id", "orders"), ("payments", "order_id", "orders"))

HISTORY_COLUMNS = _fields(
    ("change_hash", T.StringType(), False), ("valid_from", T.TimestampType(), False),
    ("valid_to", T.TimestampType(), True), ("is_current", T.BooleanType(), False),
    ("is_deleted", T.BooleanType(), False))


def _with_pii_hashed(schema: T.StructType, pii: tuple[str, ...]) -> list[T.StructField]:
    return [T.StructField(f"{f.name}_hash", T.StringType(), True) if f.name in pii else f for f in schema.fields]


USER_PII = ("email", "full_name", "address")
DIM_USERS = TableSpec(
    "silver", "dim_users",
    T.StructType([*[T.StructField(f.name, f.dataType, f.name != "user_id")
                    for f in _with_pii_hashed(TYPED["users"], USER_PII)], *HISTORY_COLUMNS]),
    keys=("user_id", "valid_from"),
    description="Users, SCD type 2: one row per version; PII hashed; a deleted version when a key disappears.",
    change_feed=True,
)
DIM_PRODUCTS = TableSpec(
    "silver", "dim_products",
    T.StructType([*[T.StructField(f.name, f.dataType, f.name != "product_id") for f in TYPED["products"].fields],
                  *HISTORY_COLUMNS]),
    keys=("product_id", "valid_from"),
    description="Products, SCD type 2 (price changes open new versions).",
)
FACT_ORDERS = TableSpec("silver", "fact_orders", TYPED["orders"], keys=("order_id",),
                        description="Orders, current state: MERGE on order_id, the latest updated_at wins.",
                        change_feed=True)
FACT_ORDER_ITEMS = TableSpec("silver", "fact_order_items", TYPED["order_items"], keys=("order_id", "line_number"),
                             description="Order lines, current state by MERGE.")
FACT_PAYMENTS = TableSpec("silver", "fact_payments", TYPED["payments"], keys=("payment_id",),
                          description="Payments, current state by MERGE (captured, then maybe refunded).",
                          change_feed=True)
ORDER_STATUS_HISTORY = TableSpec(
    "silver", "order_status_history", T.StructType(_fields(
        ("order_id", T.StringType(), False), ("status", T.StringType(), False),
        ("changed_at", T.TimestampType(), False), ("first_seen_snapshot", T.DateType(), False))),
    keys=("order_id", "status", "changed_at"),
    description="Every order status seen in any snapshot, with when it changed.",
)
FACTS = {"orders": FACT_ORDERS, "order_items": FACT_ORDER_ITEMS, "payments": FACT_PAYMENTS}
DIMENSIONS = {"users": DIM_USERS, "products": DIM_PRODUCTS}
