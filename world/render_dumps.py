"""Render nightly OLTP dumps (full snapshots at the end of each UTC day) and ad-spend CSVs.

oltp/<table>/<YYYY-MM-DD>/<table>.csv (and .parquet when asked): RFC 4180 CSV with a
header, quotes, commas and newlines inside fields where the data has them. Timestamps are
UTC 'yyyy-MM-dd HH:mm:ss.SSS', money has two decimals.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import random

from world.model import DAY_MS, Params, World, ms_to_datetime
from world.render_events import BadRecord

NULL_KEY = "null_key"
UNPARSEABLE_NUMBER = "unparseable_number"
UNPARSEABLE_DATE = "unparseable_date"
ORPHAN_FOREIGN_KEY = "orphan_foreign_key"

COLUMNS = {
    "users": ("user_id", "email", "full_name", "address", "country", "marketing_consent", "created_at",
              "updated_at"),
    "products": ("product_id", "sku", "name", "category", "price", "currency", "created_at", "updated_at"),
    "orders": ("order_id", "user_id", "status", "total_amount", "currency", "placed_at", "updated_at"),
    "order_items": ("order_id", "line_number", "product_id", "quantity", "unit_price", "updated_at"),
    "payments": ("payment_id", "order_id", "method", "amount", "status", "paid_at", "refunded_at", "updated_at"),
}


def ts_text(ms: int | None) -> str:
    if ms is None:
        return ""
    t = ms_to_datetime(ms)
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def snapshot_rows(world: World, as_of_ms: int) -> dict[str, list[tuple]]:
    """Every table's rows as the database held them at as_of_ms (exclusive)."""
    users = []
    for user in world.users:
        version = user.version_at(as_of_ms - 1)
        if version is not None:
            users.append((user.user_id, version.email, version.full_name, version.address, version.country,
                          str(version.marketing_consent).lower(), ts_text(user.created_ms),
                          ts_text(max(user.created_ms, version.valid_from_ms))))
    products = []
    for product in world.products:
        cents, since = product.price_at(as_of_ms - 1)
        products.append((product.product_id, product.sku, product.name, product.category, money(cents), "USD",
                         ts_text(product.created_ms), ts_text(since)))
    orders, items, payments = [], [], []
    for order in world.orders:
        state = order.status_at(as_of_ms - 1)
        if state is None:
            continue
        status, updated = state
        orders.append((order.order_id, order.user_id, status, money(order.total_cents), "USD",
                       ts_text(order.placed_ms), ts_text(updated)))
        for item in order.items:
            items.append((order.order_id, item.line_number, item.product_id, item.quantity,
                          money(item.unit_price_cents), ts_text(order.placed_ms)))
        if order.paid_ms is not None and order.paid_ms < as_of_ms:
            refunded = order.refunded_ms if order.refunded_ms is not None and order.refunded_ms < as_of_ms else None
            payments.append((order.payment_id, order.order_id, order.method, money(order.total_cents),
                             "refunded" if refunded else "captured", ts_text(order.paid_ms), ts_text(refunded),
                             ts_text(refunded or order.paid_ms)))
    return {"users": users, "products": products, "orders": orders, "order_items": items, "payments": payments}


def csv_text(columns: tuple[str, ...], rows: list[tuple]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def csv_row(row: tuple) -> str:
    return csv_text(("",), [row]).split("\n", 1)[1].rstrip("\n")


def junk_rows(params: Params, day: int, as_of_ms: int) -> dict[str, list[tuple[tuple, str]]]:
    """Rows a careless export or a broken upstream adds; none belongs to the clean world."""
    rng = random.Random(f"{params.seed}:dump_dirt:{day}")
    chance = min(1.0, 30 * params.dirt_rate)
    stamp = ts_text(as_of_ms - rng.randint(1, DAY_MS))
    junk: dict[str, list[tuple[tuple, str]]] = {name: [] for name in COLUMNS}
    ghost = 9_000_000_000 + day
    if rng.random() < chance:
        junk["users"].append((("", f"ghost{day}@example.com", "No Key", "", "US", "true", stamp, stamp), NULL_KEY))
    if rng.random() < chance:
        junk["orders"].append(((ghost, 1, "paid", "12,34", "USD", stamp, stamp), UNPARSEABLE_NUMBER))
    if rng.random() < chance:
        junk["order_items"].append(((ghost + 1, 1, 1, 1, "9.99", stamp), ORPHAN_FOREIGN_KEY))
    if rng.random() < chance:
        junk["payments"].append(((ghost * 10 + 1, ghost, "card", "5.00", "captured", "31/02/2024 10:00", "",
                                  stamp), UNPARSEABLE_DATE))
    return junk


def render_dumps(world: World, formats: tuple[str, ...]) -> tuple[dict[str, str | bytes], list[BadRecord]]:
    params = world.params
    files: dict[str, str | bytes] = {}
    bad = []
    for day in range(params.days):
        snapshot_date = params.start_date + dt.timedelta(days=day)
        as_of = params.start_ms + (day + 1) * DAY_MS
        tables = snapshot_rows(world, as_of)
        junk = junk_rows(params, day, as_of)
        for name, rows in tables.items():
            base = f"oltp/{name}/{snapshot_date.isoformat()}/{name}"
            if "csv" in formats:
                path = f"{base}.csv"
                files[path] = csv_text(COLUMNS[name], rows + [row for row, _ in junk[name]])
                bad.extend(BadRecord(f"oltp/{name}", path, csv_row(row), reason) for row, reason in junk[name])
            if "parquet" in formats:
                files[f"{base}.parquet"] = _parquet_bytes(name, rows)
    return files, bad


def render_ad_spend(world: World) -> dict[str, str]:
    files = {}
    by_day: dict[dt.date, list] = {}
    for row in world.ad_spend:
        by_day.setdefault(row.spend_date, []).append(row)
    for day, rows in sorted(by_day.items()):
        body = [(r.spend_date.isoformat(), r.channel, f'{r.campaign}, "{r.channel}"', money(r.spend_cents), "USD",
                 r.impressions, r.clicks) for r in rows]
        files[f"marketing/ad_spend_{day.isoformat()}.csv"] = csv_text(
            ("date", "channel", "campaign", "spend", "currency", "impressions", "clicks"), body)
    return files


def _parquet_bytes(name: str, rows: list[tuple]) -> bytes:
    """The same snapshot as Parquet, every column as text, as a dump tool writes it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = COLUMNS[name]
    table = pa.table({col: [None if row[i] == "" else str(row[i]) for row in rows] for i, col in enumerate(columns)},
                     schema=pa.schema([(col, pa.string()) for col in columns]))
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()
