"""The KPIs every engine of the benchmark computes, and the SQL the two reference engines
share. Definitions are those of docs/METRICS.md; each engine has its own text for the few
things SQL dialects spell differently (epoch microseconds, a UTC instant's local date).

Input: a table `events` (valid, deduplicated: event_id, event_type, event_ts as a UTC
timestamp, anonymous_id, user_id, page_path, event_date) and `parsed` (every line with its
reject_reason).
"""
from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from schemas.events import KNOWN_EVENT_TYPES

KNOWN_TYPES = KNOWN_EVENT_TYPES  # the event types the pipeline accepts; any other is quarantined
SESSION_GAP_S = 30 * 60
# daily KPIs compared across engines: gold.daily_kpis and gold.funnel_daily in the pipeline
ACTIVITY = ("dau", "visitors", "buyers")
FUNNEL = ("sessions", "view_sessions", "add_to_cart_sessions", "checkout_sessions", "purchase_sessions")

_MILLIS = r"(\.[0-9]{3})?"
_PATTERNS = {
    # what the pipeline's parse_timestamp accepts as text: ISO-8601 with Z or an offset, or naive UTC
    "zoned": rf"[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}{_MILLIS}(Z|[+-][0-9]{{2}}:[0-9]{{2}})",
    "naive": rf"[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[ T][0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}{_MILLIS}",
}


def reject_reason_sql() -> str:
    """The pipeline's reasons for rejecting an event line, checked in its order
    (transformations/events.py), over the columns both references derive from a line."""
    known = ", ".join(f"'{t}'" for t in KNOWN_TYPES)
    blank = " OR ".join(f"coalesce(trim({c}), '') = ''" for c in ("event_id", "event_type", "ts_text", "anonymous_id"))
    return f"""CASE
    WHEN trim(coalesce(value, '')) = '' THEN 'empty_line'
    WHEN doc IS NULL THEN 'malformed_json'
    WHEN {blank} THEN 'missing_required_field'
    WHEN event_ts IS NULL OR event_ts < TIMESTAMP '2000-01-01 00:00:00' THEN 'invalid_timestamp'
    WHEN event_ts > delivered_ts + INTERVAL '1 hour' THEN 'future_timestamp'
    WHEN event_type NOT IN ({known}) THEN 'unknown_event_type'
  END"""


def ts_pattern_sql(kind: str) -> str:
    return _PATTERNS[kind]


@dataclass(frozen=True)
class Dialect:
    epoch_us: str      # SQL for event_ts as microseconds since the epoch (bigint)
    local_date: str    # SQL template for the business date of a UTC timestamp {col} in zone {tz}


def queries(d: Dialect, tz: str) -> dict[str, str]:
    local = d.local_date.format(col="started_ts", tz=tz)
    stitched = f"""
WITH keyed AS (
  SELECT *, {d.epoch_us} AS us FROM events
), gaps AS (
  SELECT *, CASE WHEN lag(us) OVER w IS NULL
                   OR floor(us / 1000000.0) - floor(lag(us) OVER w / 1000000.0) > {SESSION_GAP_S}
                 THEN 1 ELSE 0 END AS is_new
  FROM keyed WINDOW w AS (PARTITION BY anonymous_id ORDER BY event_ts, event_id)
), numbered AS (
  SELECT *, anonymous_id || '#' || CAST(sum(is_new) OVER (PARTITION BY anonymous_id ORDER BY event_ts, event_id
                                                         ROWS UNBOUNDED PRECEDING) AS VARCHAR) AS sid,
         lpad(CAST(us AS VARCHAR), 20, '0') || event_id AS ord
  FROM gaps
), sessions AS (
  SELECT sid, min(event_ts) AS started_ts,
         min(CASE WHEN user_id IS NOT NULL THEN ord END) AS first_user_ord
  FROM numbered GROUP BY sid
), session_users AS (
  SELECT s.sid, {local} AS session_date, n.user_id AS stitched_user
  FROM sessions s LEFT JOIN numbered n ON n.sid = s.sid AND n.ord = s.first_user_ord
)
SELECT n.*, u.session_date, u.stitched_user,
       coalesce('u' || CAST(u.stitched_user AS VARCHAR), n.anonymous_id) AS person,
       CASE WHEN n.event_type = 'page_view' AND n.page_path LIKE '/products/%' THEN 1
            WHEN n.event_type = 'add_to_cart' THEN 2 WHEN n.event_type = 'checkout' THEN 3
            WHEN n.event_type = 'purchase' THEN 4 ELSE 0 END AS code
FROM numbered n JOIN session_users u ON u.sid = n.sid"""
    steps = ["s1 AS (SELECT sid, min(ord) AS o FROM stitched WHERE code = 1 GROUP BY sid)"]
    for n in (2, 3, 4):
        steps.append(f"s{n} AS (SELECT t.sid, min(t.ord) AS o FROM stitched t JOIN s{n - 1} p ON p.sid = t.sid "
                     f"WHERE t.code = {n} AND t.ord > p.o GROUP BY t.sid)")
    return {
        "stitched": f"CREATE TABLE stitched AS {stitched}",
        "activity": """
SELECT CAST(event_date AS VARCHAR) AS business_date, count(DISTINCT stitched_user) AS dau,
       count(DISTINCT person) AS visitors, count(DISTINCT CASE WHEN event_type = 'purchase' THEN person END) AS buyers
FROM stitched GROUP BY event_date ORDER BY event_date""",
        "funnel": f"""
WITH per_session AS (SELECT DISTINCT sid, session_date FROM stitched), {", ".join(steps)}
SELECT CAST(p.session_date AS VARCHAR) AS business_date, count(*) AS sessions, count(s1.o) AS view_sessions,
       count(s2.o) AS add_to_cart_sessions, count(s3.o) AS checkout_sessions, count(s4.o) AS purchase_sessions
FROM per_session p LEFT JOIN s1 ON s1.sid = p.sid LEFT JOIN s2 ON s2.sid = p.sid
     LEFT JOIN s3 ON s3.sid = p.sid LEFT JOIN s4 ON s4.sid = p.sid
GROUP BY p.session_date ORDER BY p.session_date""",
        "quarantine": """
SELECT reject_reason AS reason, count(*) AS lines FROM parsed WHERE reject_reason IS NOT NULL
GROUP BY reject_reason ORDER BY reject_reason""",
    }


def run_core(execute, dialect: Dialect, time_zone: str, parse_sql: str, events_sql: str) -> dict:
    """PARSE, EVENTS, then every KPI query, through `execute(sql) -> cursor`; KPI rows by name."""
    execute(parse_sql)
    execute(events_sql.format(event_date=dialect.local_date.format(col="event_ts", tz=time_zone)))
    results = {}
    for name, sql in queries(dialect, time_zone).items():
        cursor = execute(sql)
        if name != "stitched":
            results[name] = fetch_rows(cursor)
    return results


def fetch_rows(cursor) -> list[dict]:
    """A DB-API cursor's result rows as dicts by column name (DuckDB or psycopg)."""
    columns = [getattr(d, "name", None) or d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def run_phases(events: Callable[[], dict], money: Callable[[], list[dict]]) -> dict:
    """The event results, with the money rows under "money" and each phase's seconds
    (loading included) under "phases_s"."""
    began = time.monotonic()
    results = events()
    events_done = time.monotonic()
    results["money"] = money()
    results["phases_s"] = {"events": round(events_done - began, 2), "money": round(time.monotonic() - events_done, 2)}
    return results


def reference_main(doc: str, argv: list[str], run, needs_dsn: bool = False) -> int:
    """The command line of a reference engine: LANDING OUT.json [--time-zone Z] [--dsn DSN]."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("landing", type=Path, help="the landing folder (its events/ are read)")
    parser.add_argument("out", type=Path, help="where the KPIs go, as JSON")
    parser.add_argument("--time-zone", default="UTC", help="business time zone of the dates (default: UTC)")
    if needs_dsn:
        parser.add_argument("--dsn", required=True, help="libpq connection string of the server")
    args = parser.parse_args(argv)
    extra = {"dsn": args.dsn} if needs_dsn else {}
    args.out.write_text(json.dumps(run(args.landing.resolve(), args.time_zone, **extra), indent=1))
    return 0
