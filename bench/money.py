"""Money KPIs from the nightly OLTP dumps, in SQL both reference engines share: orders,
gross revenue, refunds and paying users per business date (docs/METRICS.md#daily_kpis).

Written from the definitions, not from the pipeline's code. Each engine first loads every
dump of `orders` and `payments` as text into `<table>_raw` (the dump's columns plus
snapshot_date); from there the SQL is common:

1. type each row; a row with an empty key or required column, or a non-empty value that
   does not parse, is dropped (the pipeline quarantines it);
2. within one snapshot, a key on rows that disagree is dropped whole, identical copies count
   once; a payment whose order is not a valid order of the same snapshot is dropped;
3. the newest row per key (updated_at, then the later snapshot) is the current state;
4. an order counts on the business date of its first payment's paid_at (gross revenue is the
   order total), and as a refund on the date of its first refunded_at.
Money is summed in integer cents, so engines compare exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

from bench.kpis import fetch_rows

# The dump header of each table (world/render_dumps.py writes them; a real export has the same).
COLUMNS = {
    "orders": ("order_id", "user_id", "status", "total_amount", "currency", "placed_at", "updated_at"),
    "payments": ("payment_id", "order_id", "method", "amount", "status", "paid_at", "refunded_at", "updated_at"),
}
KEYS = {"orders": "order_id", "payments": "payment_id"}
REQUIRED = {"orders": ("order_id", "status", "updated_at"), "payments": ("payment_id", "order_id", "updated_at")}
DECIMALS = {"orders": ("total_amount",), "payments": ("amount",)}
TIMESTAMPS = {"orders": ("placed_at", "updated_at"), "payments": ("paid_at", "refunded_at", "updated_at")}
MONEY = ("orders", "gross_cents", "refund_cents", "paying_users")

# what the pipeline's typing accepts (transformations/oltp.py): plain decimals, and ISO dates
# with an optional time of day, to the millisecond
DECIMAL_PATTERN = r"-?[0-9]+(\.[0-9]+)?"
TIMESTAMP_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,3})?)?"


@dataclass(frozen=True)
class MoneyDialect:
    matches: str        # SQL: does text {col} match the whole of regular expression {pattern}
    to_timestamp: str   # SQL: text {col} (already matching TIMESTAMP_PATTERN) as a timestamp, null if invalid


def _typed(d: MoneyDialect, table: str) -> str:
    columns = COLUMNS[table]
    text = {c: f"nullif(trim({c}), '')" for c in columns}
    typed = []
    for c in columns:
        if c in DECIMALS[table]:
            ok = d.matches.format(col=text[c], pattern=DECIMAL_PATTERN)
            typed.append(f"CASE WHEN {ok} THEN CAST({text[c]} AS DECIMAL(12,2)) END AS {c}")
        elif c in TIMESTAMPS[table]:
            ok = d.matches.format(col=text[c], pattern=TIMESTAMP_PATTERN)
            typed.append(f"CASE WHEN {ok} THEN {d.to_timestamp.format(col=text[c])} END AS {c}")
        else:
            typed.append(f"{text[c]} AS {c}")
    checked = DECIMALS[table] + TIMESTAMPS[table]
    identity = " || '|' || ".join(f"coalesce({text[c]}, '~')" for c in columns)
    texts = ", ".join(f"{text[c]} AS text_{c}" for c in checked)
    parses = [f"(text_{c} IS NULL OR {c} IS NOT NULL)" for c in checked]
    present = [f"{c} IS NOT NULL" for c in REQUIRED[table]]
    key = KEYS[table]
    return f"""
CREATE TABLE {table}_valid AS
WITH typed AS (
  SELECT snapshot_date, {identity} AS row_text, {texts}, {", ".join(typed)} FROM {table}_raw
), valid AS (
  SELECT DISTINCT snapshot_date, row_text, {", ".join(columns)} FROM typed WHERE {" AND ".join(parses + present)}
)
SELECT * FROM valid v
WHERE NOT EXISTS (SELECT 1 FROM valid w WHERE w.snapshot_date = v.snapshot_date AND w.{key} = v.{key}
                  AND w.row_text <> v.row_text)"""


def _current(table: str) -> str:
    key = KEYS[table]
    orphan = ("" if table == "orders" else
              "WHERE EXISTS (SELECT 1 FROM orders_valid o WHERE o.snapshot_date = p.snapshot_date "
              "AND o.order_id = p.order_id)")
    return f"""
CREATE TABLE {table}_current AS
SELECT * FROM (
  SELECT p.*, row_number() OVER (PARTITION BY {key} ORDER BY updated_at DESC, snapshot_date DESC) AS newest
  FROM {table}_valid p {orphan}
) ranked WHERE newest = 1"""


def run_money(execute, d: MoneyDialect, local_date: str, time_zone: str) -> list[dict]:
    """From the loaded orders_raw and payments_raw, through `execute(sql) -> cursor`: the money
    KPIs per business date (`local_date`: the engine's Dialect.local_date template)."""
    for sql in (_typed(d, "orders"), _typed(d, "payments"), _current("orders"), _current("payments")):
        execute(sql)
    return fetch_rows(execute(money_query(local_date, time_zone)))


def money_query(local_date: str, time_zone: str) -> str:
    """Per business date: orders and gross cents by first capture, refund cents by first refund,
    paying users (distinct users with an order captured on the date)."""
    first_date = local_date.format(col="first_ts", tz=time_zone)
    return f"""
WITH captured AS (
  SELECT order_id, min(paid_at) AS first_ts FROM payments_current WHERE paid_at IS NOT NULL GROUP BY order_id
), refunded AS (
  SELECT order_id, min(refunded_at) AS first_ts FROM payments_current WHERE refunded_at IS NOT NULL GROUP BY order_id
), gross AS (
  SELECT CAST({first_date} AS VARCHAR) AS business_date, count(DISTINCT c.order_id) AS orders,
         CAST(sum(o.total_amount * 100) AS BIGINT) AS gross_cents, count(DISTINCT o.user_id) AS paying_users
  FROM captured c JOIN orders_current o ON o.order_id = c.order_id GROUP BY 1
), refunds AS (
  SELECT CAST({first_date} AS VARCHAR) AS business_date, CAST(sum(o.total_amount * 100) AS BIGINT) AS refund_cents
  FROM refunded r JOIN orders_current o ON o.order_id = r.order_id GROUP BY 1
)
SELECT coalesce(g.business_date, r.business_date) AS business_date, coalesce(g.orders, 0) AS orders,
       coalesce(g.gross_cents, 0) AS gross_cents, coalesce(r.refund_cents, 0) AS refund_cents,
       coalesce(g.paying_users, 0) AS paying_users
FROM gross g FULL JOIN refunds r ON r.business_date = g.business_date
ORDER BY 1"""
