"""The core work in DuckDB, over the same landing files: read every event line, parse and
type it, quarantine what the pipeline rejects (same reasons, same order), dedupe by event id,
sessionise, and compute the daily KPIs of bench/kpis.py; then read every orders and payments
dump and compute the money KPIs of bench/money.py.

    python -m bench.reference_duckdb LANDING OUT.json [--time-zone UTC]
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import duckdb

from bench.kpis import Dialect, reject_reason_sql, reference_main, run_core, run_phases, ts_pattern_sql
from bench.money import COLUMNS, MoneyDialect, run_money

LOAD = """
CREATE TABLE raw AS
SELECT filename AS source_file, unnest(string_split(regexp_replace(content, '\n$', ''), chr(10))) AS value
FROM read_text('{landing}/events/*/*.jsonl');
"""

# A line is one JSON object and nothing else; json() re-serialises it, invalid text gives an error
# that try() turns into null.
PARSE = """
CREATE TABLE parsed AS
WITH j AS (
  SELECT source_file, value,
         CASE WHEN try(json(value)) IS NOT NULL AND json_type(value) = 'OBJECT' THEN value END AS doc
  FROM raw
), f AS (
  SELECT source_file, value, doc,
         doc ->> '$.event_id' AS event_id, doc ->> '$.event_type' AS event_type,
         doc ->> '$.event_ts' AS ts_text, doc ->> '$.anonymous_id' AS anonymous_id,
         TRY_CAST(doc ->> '$.user_id' AS BIGINT) AS user_id,
         doc ->> '$.context.page_path' AS page_path,
         strptime(regexp_extract(source_file, '(\\d{{4}}-\\d{{2}}-\\d{{2}}T\\d{{2}})[^/]*$', 1), '%Y-%m-%dT%H')
           + INTERVAL 1 HOUR AS delivered_ts
  FROM j
), t AS (
  SELECT *, {parse_ts} AS event_ts FROM f
)
SELECT * EXCLUDE (value, doc), {reason} AS reject_reason  -- the raw text is not needed after this
FROM t;
"""

EVENTS = """
CREATE TABLE events AS
SELECT event_id, event_type, event_ts, anonymous_id, user_id, page_path,
       {event_date} AS event_date
FROM (SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY source_file) AS copy
      FROM parsed WHERE reject_reason IS NULL)
WHERE copy = 1;
"""


# every dump of a table as text, with the snapshot date of its folder (oltp/<table>/<date>/)
LOAD_DUMPS = """
CREATE TABLE {table}_raw AS
SELECT {columns}, CAST(regexp_extract(filename, '(\\d{{4}}-\\d{{2}}-\\d{{2}})/[^/]*$', 1) AS DATE) AS snapshot_date
FROM read_csv('{landing}/oltp/{table}/*/*.csv', header = true, all_varchar = true, filename = true,
              delim = ',', quote = '"', escape = '"');
"""

MONEY = MoneyDialect(matches="regexp_full_match({col}, '{pattern}')", to_timestamp="TRY_CAST({col} AS TIMESTAMP)")

DIALECT = Dialect(epoch_us="epoch_us(event_ts)",
                  local_date="CAST(timezone('{tz}', CAST({col} AS TIMESTAMPTZ)) AS DATE)")


def parse_ts_sql() -> str:
    text = "trim(ts_text)"
    iso = f"replace({text}, 'Z', '+00:00')"
    return f"""CASE
      WHEN regexp_full_match({text}, '-?[0-9]+') THEN
        CASE WHEN length(replace({text}, '-', '')) >= 12 THEN make_timestamp(TRY_CAST({text} AS BIGINT) * 1000)
             ELSE make_timestamp(TRY_CAST({text} AS BIGINT) * 1000000) END
      WHEN regexp_full_match({text}, '{ts_pattern_sql('zoned')}') THEN
        CAST(timezone('UTC', TRY_CAST({iso} AS TIMESTAMPTZ)) AS TIMESTAMP)
      WHEN regexp_full_match({text}, '{ts_pattern_sql('naive')}') THEN TRY_CAST({text} AS TIMESTAMP)
    END"""


def run(landing: Path, time_zone: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-duckdb-") as spill, duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET temp_directory = '{spill}'")  # what does not fit in memory goes here, not into cwd

        def events() -> dict:
            con.execute(LOAD.format(landing=landing))
            parse = PARSE.format(parse_ts=parse_ts_sql(), reason=reject_reason_sql())
            return run_core(con.execute, DIALECT, time_zone, parse, EVENTS)

        def money() -> list[dict]:
            for table, columns in COLUMNS.items():
                con.execute(LOAD_DUMPS.format(table=table, columns=", ".join(columns), landing=landing))
            return run_money(con.execute, MONEY, DIALECT.local_date, time_zone)

        return run_phases(events, money)


if __name__ == "__main__":
    sys.exit(reference_main(__doc__, sys.argv[1:], run))
