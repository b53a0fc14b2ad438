"""Load the sample world into a real PostgreSQL or MariaDB database as of any day: the
production database a JDBC extract reads. Tables and columns are those of the nightly
dumps (world/render_dumps.py), typed; the junk rows of the dumps are not loaded, since a
database with these column types would not hold them."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from world.model import DAY_MS, World
from world.render_dumps import COLUMNS, snapshot_rows

KEYS = {"users": ("user_id",), "products": ("product_id",), "orders": ("order_id",),
        "order_items": ("order_id", "line_number"), "payments": ("payment_id",)}
TYPES = {
    "user_id": "BIGINT", "product_id": "BIGINT", "order_id": "BIGINT", "payment_id": "BIGINT",
    "line_number": "INTEGER", "quantity": "INTEGER", "email": "VARCHAR(320)", "full_name": "VARCHAR(200)",
    "address": "VARCHAR(400)", "country": "CHAR(2)", "marketing_consent": "BOOLEAN", "sku": "VARCHAR(32)",
    "name": "VARCHAR(300)", "category": "VARCHAR(64)", "price": "DECIMAL(12,2)", "currency": "CHAR(3)",
    "status": "VARCHAR(16)", "total_amount": "DECIMAL(12,2)", "unit_price": "DECIMAL(12,2)",
    "method": "VARCHAR(16)", "amount": "DECIMAL(12,2)",
}
TIMESTAMP = {"postgresql": "TIMESTAMP(3)", "mariadb": "DATETIME(3)"}  # UTC, without zone, like the dumps
NULLABLE = {"refunded_at"}


def ddl(table: str, dialect: str) -> str:
    columns = []
    for column in COLUMNS[table]:
        kind = TIMESTAMP[dialect] if column.endswith("_at") else TYPES[column]
        columns.append(f"{column} {kind}{'' if column in NULLABLE else ' NOT NULL'}")
    columns.append(f"PRIMARY KEY ({', '.join(KEYS[table])})")
    return f"CREATE TABLE {table} (\n  " + ",\n  ".join(columns) + "\n)"


def typed(table: str, row: tuple) -> tuple:
    values = []
    for column, value in zip(COLUMNS[table], row):
        if value == "" and column in NULLABLE:
            values.append(None)
        elif column.endswith("_at"):
            values.append(dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%f"))
        elif column == "marketing_consent":
            values.append(value == "true")
        elif TYPES.get(column, "").startswith("DECIMAL"):
            values.append(Decimal(value))
        else:
            values.append(value)
    return tuple(values)


def load_as_of(world: World, day: int, connection, dialect: str) -> dict[str, int]:
    """Make the database hold the world as at the end of day `day` (0-based, UTC): tables are
    created if missing and their contents replaced in one transaction. Returns rows per table."""
    if dialect not in TIMESTAMP:
        raise ValueError(f"dialect must be one of {sorted(TIMESTAMP)}, not {dialect!r}")
    snapshot = snapshot_rows(world, world.params.start_ms + (day + 1) * DAY_MS)
    cursor = connection.cursor()
    existing = _tables(cursor, dialect)
    counts = {}
    for table, rows in snapshot.items():
        if table not in existing:
            cursor.execute(ddl(table, dialect))
        cursor.execute(f"DELETE FROM {table}")
        values = [typed(table, row) for row in rows]
        placeholders = ", ".join(["%s"] * len(COLUMNS[table]))
        cursor.executemany(f"INSERT INTO {table} ({', '.join(COLUMNS[table])}) VALUES ({placeholders})", values)
        counts[table] = len(values)
    connection.commit()
    return counts


def _tables(cursor, dialect: str) -> set[str]:
    if dialect == "postgresql":
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
    else:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")
    return {row[0] for row in cursor.fetchall()}
