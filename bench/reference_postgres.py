"""The core work in PostgreSQL 15, over the same landing files: every event line loaded with
COPY, then parsed, typed, quarantined (same reasons, same order as the pipeline), deduplicated
by event id, sessionised and aggregated into the daily KPIs of bench/kpis.py, all in SQL;
then every orders and payments dump, loaded with COPY, into the money KPIs of bench/money.py.

    python -m bench.reference_postgres LANDING OUT.json --dsn 'host=... port=... user=... dbname=...'
"""
from __future__ import annotations

import sys
from pathlib import Path

import psycopg

from bench.kpis import Dialect, reject_reason_sql, reference_main, run_core, run_phases, ts_pattern_sql
from bench.money import COLUMNS, MoneyDialect, run_money

MONEY = MoneyDialect(matches="({col} ~ '^({pattern})$')", to_timestamp="try_timestamp_serial({col})")

DIALECT = Dialect(epoch_us="CAST(extract(epoch FROM event_ts) * 1000000 AS BIGINT)",
                  local_date="CAST(({col} AT TIME ZONE 'UTC') AT TIME ZONE '{tz}' AS DATE)")

SETUP = """
SET TimeZone = 'UTC';
DROP TABLE IF EXISTS raw, parsed, events, stitched;
CREATE UNLOGGED TABLE raw (source_file text, value text);
-- PostgreSQL 15 has no way to test text for valid JSON or a valid timestamp without raising
-- (IS JSON and pg_input_is_valid came in 16), so these catch the error. A block with an
-- exception handler opens a subtransaction on every call, which parallel workers cannot do:
-- the functions are PARALLEL UNSAFE, and the statements that call them run in one process.
-- (Labelled SAFE, a forced parallel plan fails: "cannot start subtransactions during a
-- parallel operation".)
CREATE OR REPLACE FUNCTION try_jsonb(t text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL UNSAFE AS
$$ BEGIN RETURN t::jsonb; EXCEPTION WHEN others THEN RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION try_utc(t text, zoned boolean) RETURNS timestamp LANGUAGE plpgsql IMMUTABLE PARALLEL UNSAFE AS
$$ BEGIN
  IF zoned THEN RETURN t::timestamptz AT TIME ZONE 'UTC'; END IF;
  RETURN t::timestamp;
EXCEPTION WHEN others THEN RETURN NULL; END $$;
-- The same for the dump rows (the planner would choose a parallel plan for them from 1M events).
CREATE OR REPLACE FUNCTION try_timestamp_serial(t text) RETURNS timestamp LANGUAGE plpgsql IMMUTABLE PARALLEL UNSAFE AS
$$ BEGIN RETURN t::timestamp; EXCEPTION WHEN others THEN RETURN NULL; END $$;
"""

PARSE = r"""
CREATE UNLOGGED TABLE parsed AS
WITH j AS (  -- OFFSET 0 keeps the planner from inlining the parse into both uses below
  SELECT source_file, value, CASE WHEN jsonb_typeof(p.parsed) = 'object' THEN p.parsed END AS doc
  FROM raw, LATERAL (SELECT try_jsonb(value) AS parsed OFFSET 0) p
), f AS (
  SELECT source_file, value, doc,
         doc ->> 'event_id' AS event_id, doc ->> 'event_type' AS event_type, doc ->> 'event_ts' AS ts_text,
         doc ->> 'anonymous_id' AS anonymous_id,
         CASE WHEN doc ->> 'user_id' ~ '^-?[0-9]{1,18}$' THEN CAST(doc ->> 'user_id' AS bigint) END AS user_id,
         doc -> 'context' ->> 'page_path' AS page_path,
         CAST(to_timestamp(substring(source_file FROM '(\d{4}-\d{2}-\d{2}T\d{2})[^/]*$'), 'YYYY-MM-DD"T"HH24')
              AS timestamp) + INTERVAL '1 hour' AS delivered_ts
  FROM j
), t AS (
  SELECT *, %(parse_ts)s AS event_ts FROM f
)
SELECT source_file, event_id, event_type, event_ts, anonymous_id, user_id, page_path,
       %(reason)s AS reject_reason  -- the raw text and the parsed document are not needed after this
FROM t;
"""

EVENTS = """
CREATE UNLOGGED TABLE events AS
SELECT DISTINCT ON (event_id) event_id, event_type, event_ts, anonymous_id, user_id,
       page_path, {event_date} AS event_date
FROM parsed WHERE reject_reason IS NULL
ORDER BY event_id, source_file;
ANALYZE events;
"""


def parse_ts_sql() -> str:
    text = "trim(ts_text)"
    return f"""CASE
      WHEN {text} ~ '^-?[0-9]{{1,18}}$' THEN
        CASE WHEN length(replace({text}, '-', '')) >= 12
             THEN TIMESTAMP 'epoch' + CAST({text} AS bigint) * INTERVAL '1 millisecond'
             ELSE TIMESTAMP 'epoch' + CAST({text} AS bigint) * INTERVAL '1 second' END
      WHEN {text} ~ '^{ts_pattern_sql('zoned')}$' THEN try_utc({text}, true)
      WHEN {text} ~ '^{ts_pattern_sql('naive')}$' THEN try_utc({text}, false)
    END"""


def load(conn, landing: Path) -> int:
    """COPY every event file into raw(source_file, value), one row per line."""
    lines = 0
    files = sorted((landing / "events").glob("*/*.jsonl"))
    with conn.cursor() as cursor:
        for path in files:
            uri = path.resolve().as_uri()
            cursor.execute(f"ALTER TABLE raw ALTER COLUMN source_file SET DEFAULT '{uri}'")
            # CSV with delimiter and quote that never occur: each line is one field, verbatim
            with cursor.copy("COPY raw (value) FROM STDIN WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')") as copy:
                with path.open("rb") as handle:
                    while chunk := handle.read(1 << 20):
                        copy.write(chunk)
            lines += cursor.rowcount
    return lines


def load_dumps(conn, landing: Path) -> None:
    """COPY every orders and payments dump into <table>_raw, text columns plus snapshot_date."""
    with conn.cursor() as cursor:
        for table, columns in COLUMNS.items():
            cursor.execute(f"DROP TABLE IF EXISTS {table}_raw, {table}_valid, {table}_current")
            cursor.execute(f"CREATE UNLOGGED TABLE {table}_raw ({', '.join(f'{c} text' for c in columns)}, "
                           "snapshot_date date)")
            for path in sorted((landing / "oltp" / table).glob("*/*.csv")):
                with path.open("rb") as handle:
                    header = handle.readline().decode().strip().split(",")
                    if tuple(header) != columns:
                        raise ValueError(f"{path}: header {header} is not {list(columns)}")
                    cursor.execute(f"ALTER TABLE {table}_raw ALTER COLUMN snapshot_date SET DEFAULT "
                                   f"'{path.parent.name}'")
                    with cursor.copy(f"COPY {table}_raw ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
                        while chunk := handle.read(1 << 20):
                            copy.write(chunk)


def run(landing: Path, time_zone: str, dsn: str) -> dict:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SETUP)

        def events() -> dict:
            load(conn, landing)
            parse = PARSE % {"parse_ts": parse_ts_sql(), "reason": reject_reason_sql()}
            return run_core(conn.execute, DIALECT, time_zone, parse, EVENTS)

        def money() -> list[dict]:
            load_dumps(conn, landing)
            return run_money(conn.execute, MONEY, DIALECT.local_date, time_zone)

        return run_phases(events, money)


if __name__ == "__main__":
    sys.exit(reference_main(__doc__, sys.argv[1:], run, needs_dsn=True))
