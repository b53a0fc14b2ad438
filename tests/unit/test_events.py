"""parse_events, dedupe_events, pseudonymise, sessionize: inline rows in, DataFrames compared with chispa."""
import datetime as dt
import re

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.common.session import sql_settings
from schemas.events import EVENT_JSON, EVENT_JSON_FIELDS, KNOWN_EVENT_TYPES, SESSIONS
from tests.conftest import generated_code, session_event, silver_events
from transformations.events import (KNOWN_FIELDS, MALFORMED, UNKNOWN_FIELDS, contract_leaves, dedupe_events,
                                    delivery_ts, first_copies, parse_events, pseudonymise, read_contract,
                                    register_java_function, repeated_event_ids)
from transformations.common import conform
from transformations.sessions import resessionize, sessionize

INGESTED = dt.datetime(2024, 3, 2, 0, 0)
FILE = "file:/landing/events/2024-03-01/events_2024-03-01T05.jsonl"
RAW_SCHEMA = "value string, _source_file string, _ingested_at timestamp, _batch_id string"


def event(ts='"2024-03-01T05:03:22.123Z"', event_type="page_view", extra=""):
    return (f'{{"event_id":"e1","event_type":"{event_type}","event_ts":{ts},"anonymous_id":"a1","user_id":7,'
            f'"platform":"web","context":{{"ip":"1.2.3.4","page_path":"/"}},"properties":{{"email":"X@Y.com"}}{extra}}}')


def parse(spark, lines, time_zone="UTC", source_file=FILE):
    raw = spark.createDataFrame([(line, source_file, INGESTED, "b0") for line in lines], RAW_SCHEMA)
    return parse_events(raw, time_zone, KNOWN_EVENT_TYPES)


@pytest.mark.parametrize("ts", ['"2024-03-01T05:03:22.123Z"', '"2024-03-01T14:03:22.123+09:00"',
                                '"2024-03-01T00:03:22.123-05:00"', "1709269402123", '"1709269402123"',
                                '"2024-03-01 05:03:22.123"'])
def test_parse_events_normalises_every_timestamp_format_to_utc(spark, ts):
    row = parse(spark, [event(ts)]).select("event_ts", "reject_reason").first()
    assert row["event_ts"] == dt.datetime(2024, 3, 1, 5, 3, 22, 123000)
    assert row["reject_reason"] is None


def test_parse_events_epoch_seconds_are_seconds(spark):
    assert parse(spark, [event("1709269402")]).first()["event_ts"] == dt.datetime(2024, 3, 1, 5, 3, 22)


def test_parse_events_event_date_is_in_the_business_time_zone(spark):
    late_evening = event('"2024-03-01T20:00:00.000Z"')
    assert parse(spark, [late_evening], "UTC").first()["event_date"] == dt.date(2024, 3, 1)
    assert parse(spark, [late_evening], "Asia/Seoul").first()["event_date"] == dt.date(2024, 3, 2)


@pytest.mark.parametrize("line,reason", [
    ("", "empty_line"),
    ('{"event_id": broken', "malformed_json"),
    (event() + "}", "malformed_json"),                 # a stray brace after a complete object
    (event() + event(), "malformed_json"),             # two objects glued together lose neither silently
    ("[1,2]", "malformed_json"),
    ('"just a string"', "malformed_json"),
    (event() + "]}", "malformed_json"),                # closes a wrapping array early
    (event() + ",2]}", "malformed_json"),              # a second value, then an early close
    (event() + "," + event() + "]", "malformed_json"),
    ("  " + event() + " \t", None),                    # whitespace around one object is fine
    (event(extra=',"tags":["a]",["b"]]'), None),        # brackets inside the object are fine
    (event() + ",{}", "malformed_json"),               # a second value without a bracket
    (event().replace('"event_id":"e1",', ""), "missing_required_field"),
    (event().replace('"anonymous_id":"a1"', '"anonymous_id":""'), "missing_required_field"),
    (event('"not a time"'), "invalid_timestamp"),
    (event('"1970-01-01T00:00:00.000Z"'), "invalid_timestamp"),
    (event("-1"), "invalid_timestamp"),
    (event('"2024-03-09T05:00:00.000Z"'), "future_timestamp"),   # the file was delivered 2024-03-01 06:00
    (event(event_type="scroll_depth"), "unknown_event_type"),
])
def test_parse_events_rejects_with_reason(spark, line, reason):
    assert parse(spark, [line]).first()["reject_reason"] == reason


def shapes(spark, lines):
    frame = spark.createDataFrame(list(enumerate(lines)), "i int, value string")
    rows = frame.select("i", read_contract(spark, F.col("value"), EVENT_JSON).alias("j")).collect()
    return [row["j"]["shape"] for row in sorted(rows, key=lambda row: row["i"])]


def test_read_contract_tells_one_object_with_known_or_unknown_fields_from_anything_else(spark):
    lines = [
        (event(), KNOWN_FIELDS),
        ('{"event_id":"e1","context":{"app_version":"5.3.0"}}', KNOWN_FIELDS),  # only top-level names count
        ("{'event_id':'e1'}", KNOWN_FIELDS),                       # single quotes, as from_json
        ("{}", KNOWN_FIELDS),
        ("  " + event() + " \t\r\n", KNOWN_FIELDS),
        (event(extra=',"app_version":"5.3.0"'), UNKNOWN_FIELDS),
        ('{"zzz":null,"event_id":"e1"}', UNKNOWN_FIELDS),
        ('{"event_id":"e1","_corrupt_record":"x"}', UNKNOWN_FIELDS),  # from_json's name for its own column
        ("\t" + event(), MALFORMED),                               # only spaces may come first, as Spark's ltrim
        (event() + "}", MALFORMED),
        (event() + " " + event(), MALFORMED),
        ("[" + event() + "]", MALFORMED),
        ('{"event_id":"e1",}', MALFORMED),
        ('{"event_id":"e1"', MALFORMED),
        ('{"event_id":"e1","user_id":"7"}', MALFORMED),            # not the contract's type
        ('{"event_id":"e1","context":["1.2.3.4"]}', MALFORMED),
        ("null", MALFORMED),
        ("", MALFORMED),
        (None, MALFORMED),
    ]
    assert shapes(spark, [line for line, _ in lines]) == [shape for _, shape in lines]


# Lines at the edges of from_json's reading, each one JSON object: read_contract must give
# what from_json gave in PERMISSIVE mode, value for value, and call malformed what it
# marked corrupt.
CONTRACT_LINES = [
    event(), event(extra=',"app_version":"5.3.0","device":{"os":"ios"}'),
    '{"event_id":"e1","event_ts":1.50,"user_id":7}', '{"event_id":"e1","event_ts":1e3}',
    '{"event_id":"e1","event_ts":-0}', '{"event_id":"e1","event_ts":12345678901234567890123}',
    '{"event_id":"e1","event_ts":NaN}', '{"event_id":{"a" : [1, 2.50]},"event_ts":true}',
    '{"event_id":"e1","event_ts":[1,"a",{"b":null}]}', '{"event_id":"e1","event_ts":123.456789012345678901234}',
    '{"event_id":"e1","user_id":"7"}', '{"event_id":"e1","user_id":7.0}', '{"event_id":"e1","user_id":""}',
    '{"event_id":"e1","user_id":9223372036854775808}', '{"event_id":"e1","user_id":-9223372036854775808}',
    '{"event_id":"e1","user_id":007}', '{"event_id":"e1","properties":{"quantity":2147483648}}',
    '{"event_id":"e1","properties":{"quantity":-3,"x":{"y":[1,{"z":"w"}]}}}',
    '{"event_id":"e1","context":"x"}', '{"event_id":"e1","context":[]}', '{"event_id":"e1","context":{}}',
    '{"event_id":"e1","context":{"ip":"1"},"context":{"page_path":"/"}}',
    '{"event_id":"e1","context":{"ip":"1"},"context":null}', '{"event_id":"e1","event_id":null}',
    '{"event_id":"e\u0001"}', '{"x":"e\u0001","event_id":"e1"}', '{"event_id":"a\\"b\\u00e9\\n"}',
    '{"event_id":"\\ud800x"}', '{"event_id":"\u00e9\u4e2d\U0001F600"}', '{"event_id":"e1" /* c */}',
    "{'event_id':'e1','properties':{'email':'x@y'}}", '{"EVENT_ID":"e1"}',
]


def test_read_contract_gives_what_from_json_gave(spark):
    # from_json in PERMISSIVE mode, as parse_events read lines before JsonContract, is the reference
    frame = spark.createDataFrame(list(enumerate(CONTRACT_LINES)), "i int, value string")
    schema = T.StructType(EVENT_JSON.fields + [T.StructField("_corrupt_record", T.StringType())])
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt_record"}
    leaves = [path.split(".") for path, _ in contract_leaves(EVENT_JSON)]
    rows = frame.select("i", F.from_json("value", schema, options).alias("ref"),
                        read_contract(spark, F.col("value"), EVENT_JSON).alias("j")).collect()
    def value(ref, path):  # a field of a null struct is null
        return ref[path[0]] if len(path) == 1 or ref[path[0]] is None else ref[path[0]][path[1]]

    for row in sorted(rows, key=lambda row: row["i"]):
        expected = None if row["ref"]["_corrupt_record"] is not None else [value(row["ref"], path) for path in leaves]
        got = None if row["j"]["shape"] == MALFORMED else [row["j"][path[-1]] for path in leaves]
        assert got == expected, CONTRACT_LINES[row["i"]]
    malformed = [row["i"] for row in rows if row["j"]["shape"] == MALFORMED]
    assert sorted(malformed) == [10, 11, 12, 13, 15, 16, 18, 19, 24, 25, 29]


def test_parse_events_tolerates_a_clock_slightly_ahead_of_delivery(spark):
    assert parse(spark, [event('"2024-03-01T06:30:00.000Z"')]).first()["reject_reason"] is None


@pytest.mark.parametrize("source_file,delivered", [
    (FILE, dt.datetime(2024, 3, 1, 6, 0)),                                     # the end of the file's hour
    ("s3a://b/events/2024-03-01T05/late.jsonl", INGESTED),                     # a stamp on a folder only
    ("file:/events/2024-03-01T05_part000_2024-03-02T09.jsonl", dt.datetime(2024, 3, 1, 6, 0)),  # the first
    ("file:/landing/events/manual_upload.jsonl", INGESTED),
])
def test_delivery_ts_is_the_hour_in_the_file_name_else_the_ingestion_time(spark, source_file, delivered):
    frame = spark.createDataFrame([(source_file, INGESTED)], "_source_file string, _ingested_at timestamp")
    assert frame.select(delivery_ts(spark, F.col("_source_file"), F.col("_ingested_at"))).first()[0] == delivered


def test_delivery_ts_reads_each_file_of_a_partition_as_its_own(spark):
    files = [(FILE, dt.datetime(2024, 3, 1, 6, 0)),
             ("file:/events/events_2024-02-29T23.jsonl", dt.datetime(2024, 3, 1, 0, 0)),   # a leap day, the next day
             ("file:/events/events_2023-02-29T05.jsonl", INGESTED),                        # no such day
             ("file:/events/events_2024-03-01T24.jsonl", INGESTED),                        # no such hour
             (None, INGESTED)]
    rows = [(i, files[i % 3 if i < 6 else i % len(files)][0]) for i in range(12)]     # A B C A B C, then all five
    frame = spark.createDataFrame(rows, "i int, _source_file string").coalesce(1).withColumn(
        "_ingested_at", F.lit(INGESTED))
    delivered = frame.select("i", "_source_file", delivery_ts(spark, F.col("_source_file"), F.col("_ingested_at")))
    expected = dict(files)
    assert sorted((r[0], r[2]) for r in delivered.collect()) == [(i, expected[path]) for i, path in rows]


@pytest.mark.parametrize("contract,unreadable", [
    (T.StructType([T.StructField("price", T.DoubleType())]), "price: double"),
    (T.StructType([T.StructField("a", T.StructType([T.StructField("b", T.StructType())]))]), "a.b: struct<>"),
])
def test_read_contract_names_a_field_it_cannot_read(spark, contract, unreadable):
    with pytest.raises(ValueError, match=re.escape(unreadable)):
        read_contract(spark, F.col("value"), contract)


def test_a_java_function_missing_from_the_class_path_says_how_to_build_it(spark):
    with pytest.raises(RuntimeError, match=r"NoSuchFunction is not on Spark's class path: run `make setup`"):
        register_java_function(spark, "NoSuchFunction", "lakehouse_no_such_function", T.LongType())


def test_parse_events_keeps_unknown_new_fields_in_rescued(spark):
    parsed = parse(spark, [event(extra=',"app_version":"5.3.0","device":{"os":"ios"}'), event()])
    assert [row["_rescued"] for row in parsed.collect()] == [{"app_version": "5.3.0", "device": '{"os":"ios"}'}, None]


# Lines with fields outside the contract, as JSON writes them: nested values with spaces, numbers
# of every form, escapes, single quotes, a known field's name inside an unknown one, no unknown field
RESCUE_LINES = [
    '{"event_id":"e1","device":{ "os" : "ios", "v": [1, 2.50, -3e2] },"app_version":"5.3.0"}',
    '{"zzz":null,"event_id":"e1","n":12,"f":1.500,"big":123456789012345678901234567890,"e":1E-7,"t":true,"x":false}',
    '{"esc":"a\\"b\\\\c\\u00e9\\n","arr":[],"obj":{},"event_id":"e1"}',
    "{'quoted':'single','event_id':'e1','deep':{'a':{'b':[{'c':null}]}}}",
    '{"event_id":"e1","wrapper":{"event_id":"inner","context":{"ip":"1.1.1.1"}},"context":{"ip":"2.2.2.2"}}',
    '{"\u00e9t\u00e9":"summer","event_id":"e1"}',
    '{"event_id":"e1","context":{"ip":"1.2.3.4"}}',
    None,
]


def test_read_contract_rescues_what_from_json_and_map_filter_gave(spark):
    # the expressions that rescued fields before the project's Java functions, as the reference
    frame = spark.createDataFrame(list(enumerate(RESCUE_LINES)), "i int, value string")
    known = F.array(*[F.lit(name) for name in EVENT_JSON_FIELDS])
    as_map = F.from_json("value", T.MapType(T.StringType(), T.StringType()))
    expected = frame.select("i", F.map_filter(as_map, lambda k, _v: ~F.array_contains(known, k)).alias("_rescued"))
    rescued = {row["i"]: row["j"]["_rescued"]
               for row in frame.select("i", read_contract(spark, F.col("value"), EVENT_JSON).alias("j")).collect()}
    # (maps cannot be sorted, so chispa cannot compare these frames; an empty map was no field)
    assert rescued == {row["i"]: row["_rescued"] or None for row in expected.collect()}
    assert rescued[0] == {"device": '{"os":"ios","v":[1,2.5,-300.0]}', "app_version": "5.3.0"}
    assert rescued[6] is None and rescued[7] is None


def test_read_contract_rescues_a_repeated_field_once_with_its_last_value(spark):
    frame = spark.createDataFrame([('{"event_id":"e1","app":"a","app":{"v":2}}',)], "value string")
    assert frame.select(read_contract(spark, F.col("value"), EVENT_JSON).alias("j")).first()["j"]["_rescued"] == {
        "app": '{"v":2}'}


def test_parse_events_is_compiled_by_whole_stage_codegen(spark):
    # A lambda (higher-order function) in the per-line projection would make Spark interpret
    # the whole of it.
    with generated_code(spark):
        raw = spark.createDataFrame([(event(), FILE, INGESTED, "b0")], RAW_SCHEMA)
        plan = parse_events(raw, "UTC", KNOWN_EVENT_TYPES)._jdf.queryExecution().executedPlan().toString()
    interpreted = [line for line in plan.splitlines() if line.lstrip(" +-").startswith("Project")]
    assert not interpreted, plan


# dedupe_events ranks only the repeated ids; first_copies, its fallback for very many of them,
# ranks every row: the same rows either way
DEDUPES = pytest.mark.parametrize("dedupe", [dedupe_events, first_copies])


@DEDUPES
def test_dedupe_events_keeps_one_row_per_event_id_earliest_ingested(spark, dedupe):
    rows = [("e1", "b.jsonl", dt.datetime(2024, 3, 2)), ("e1", "a.jsonl", dt.datetime(2024, 3, 3)),
            ("e2", "c.jsonl", dt.datetime(2024, 3, 2))]
    events = spark.createDataFrame(rows, "event_id string, _source_file string, _ingested_at timestamp")
    expected = spark.createDataFrame([rows[0], rows[2]], events.schema)
    assert_df_equality(dedupe(events), expected, ignore_row_order=True)


@DEDUPES
def test_dedupe_events_ranks_every_copy_then_breaks_ties_by_file_name(spark, dedupe):
    rows = [("e1", "a.jsonl", dt.datetime(2024, 3, 2), "x"), ("e2", "b.jsonl", dt.datetime(2024, 3, 4), "y"),
            ("e2", "a.jsonl", dt.datetime(2024, 3, 4), "z"), ("e2", "c.jsonl", dt.datetime(2024, 3, 1), "w"),
            ("e3", "d.jsonl", dt.datetime(2024, 3, 5), "v")]
    events = spark.createDataFrame(rows, "event_id string, _source_file string, _ingested_at timestamp, v string")
    expected = spark.createDataFrame([rows[0], rows[3], rows[4]], events.schema)
    assert_df_equality(dedupe(events), expected, ignore_row_order=True)
    same_time = events.where("event_id = 'e2'").withColumn("_ingested_at", F.lit(dt.datetime(2024, 3, 4)))
    assert [r["v"] for r in dedupe(same_time).collect()] == ["z"]


def test_repeated_event_ids_lists_only_ids_on_several_rows_with_their_copies(spark):
    events = spark.createDataFrame([("e1",), ("e2",), ("e2",), ("e3",), ("e3",), ("e3",)], "event_id string")
    expected = (spark.createDataFrame([("e2", 2), ("e3", 3)], "event_id string, copies long")
                .select(F.xxhash64("event_id").alias("_id_hash"), "copies"))
    assert_df_equality(repeated_event_ids(events), expected, ignore_row_order=True, ignore_nullable=True)


def test_dedupe_events_keeps_an_id_seen_once_whose_hash_a_repeated_id_shares(spark):
    # a shared hash is a collision of two ids; e1 and e4's hashes counted as repeated stand for one
    rows = [("e1", "a.jsonl", dt.datetime(2024, 3, 2)), ("e2", "a.jsonl", dt.datetime(2024, 3, 2)),
            ("e2", "b.jsonl", dt.datetime(2024, 3, 1)), ("e3", "a.jsonl", dt.datetime(2024, 3, 2))]
    events = spark.createDataFrame(rows, "event_id string, _source_file string, _ingested_at timestamp")
    collided = spark.createDataFrame([("e1",), ("e4",)], "event_id string").select(
        F.xxhash64("event_id").alias("_id_hash"), F.lit(2).cast("long").alias("copies"))
    deduped = dedupe_events(events, repeated_event_ids(events).unionByName(collided))
    expected = spark.createDataFrame([rows[0], rows[2], rows[3]], events.schema)
    assert_df_equality(deduped, expected, ignore_row_order=True)


def test_dedupe_events_given_the_repeated_ids_ranks_them_in_the_partitions_asked(spark):
    rows = [(f"e{i}", "a.jsonl", dt.datetime(2024, 3, 2)) for i in range(20)] + \
           [("e3", "b.jsonl", dt.datetime(2024, 3, 1)), ("e7", "a.jsonl", dt.datetime(2024, 3, 5))]
    events = spark.createDataFrame(rows, "event_id string, _source_file string, _ingested_at timestamp").repartition(4)
    deduped = dedupe_events(events, repeated_event_ids(events), repeated_partitions=1)
    expected = spark.createDataFrame([r for r in rows[:20] if r[0] != "e3"] + [rows[20]], events.schema)
    assert_df_equality(deduped, expected, ignore_row_order=True)
    # the ids seen once stay in their 4 partitions; the two repeated ids come out in 1 more,
    # not in one per shuffle partition (2 here, with adaptive execution kept from merging them)
    with sql_settings(spark, {"spark.sql.adaptive.coalescePartitions.enabled": "false"}):
        assert dedupe_events(events, repeated_event_ids(events)).rdd.getNumPartitions() == 4 + 2
        assert deduped.rdd.getNumPartitions() == 4 + 1


@DEDUPES
def test_dedupe_events_empty_input_gives_empty_output(spark, dedupe):
    empty = spark.createDataFrame([], "event_id string, _source_file string, _ingested_at timestamp")
    assert dedupe(empty).count() == 0


def test_pseudonymise_replaces_clear_text_by_keyed_hash(spark):
    key = spark.createDataFrame([("k1",)], "pseudonym_key string")
    other_key = spark.createDataFrame([("k2",)], "pseudonym_key string")
    people = spark.createDataFrame([("A@X.com ",), ("a@x.com",), (None,)], "email string")
    hashed = [r["email_hash"] for r in pseudonymise(people, key, {"email_hash": "email"}).collect()]
    assert hashed[0] == hashed[1] and len(hashed[0]) == 64 and hashed[2] is None
    assert "email" not in pseudonymise(people, key, {"email_hash": "email"}).columns
    rehashed = pseudonymise(people, other_key, {"email_hash": "email"}).first()["email_hash"]
    assert rehashed != hashed[0]
    plan = pseudonymise(people, key, {"email_hash": "email"})._jdf.queryExecution().toString()
    assert "k1" not in plan  # the key is data, not a literal in the plan


def test_parse_events_keeps_the_raw_line_for_quarantine(spark):
    line = '{"broken'
    assert parse(spark, [line]).select(F.col("value")).first()[0] == line


def test_sessionize_walks_each_sessions_funnel_steps_in_order_of_time_then_event_id(spark):
    at = dt.datetime(2024, 3, 1, 10)

    def e(device, event_id, seconds, event_type, page_path=None):
        return session_event(device, event_id, at + dt.timedelta(seconds=seconds), event_type, page_path)

    events = silver_events(
        spark,
        # a: a cart before any product view does not count; then view, cart, purchase without checkout: 2
        e("a", "a1", 0, "add_to_cart"), e("a", "a2", 1, "page_view", "/products/7"), e("a", "a3", 2, "add_to_cart"),
        e("a", "a4", 3, "purchase"),
        # a, two hours later: a session of its own, which views a product and stops: 1
        e("a", "a5", 7200, "page_view", "/products/2"),
        # b: a page that is no product page: 0
        e("b", "b1", 0, "page_view", "/"),
        # c: three steps at one instant, walked by event id (view c0, cart c6, checkout c7): 3
        e("c", "c7", 0, "checkout"), e("c", "c6", 0, "add_to_cart"), e("c", "c0", 0, "page_view", "/products/1"),
        # d: all four in order, with a click between them: 4
        e("d", "d1", 0, "page_view", "/products/3"), e("d", "d2", 5, "click"), e("d", "d3", 10, "add_to_cart"),
        e("d", "d4", 20, "checkout"), e("d", "d5", 30, "purchase"))
    expected = spark.createDataFrame(
        [("a", at, 2), ("a", at + dt.timedelta(hours=2), 1), ("b", at, 0), ("c", at, 3), ("d", at, 4)],
        "anonymous_id string, started_ts timestamp, funnel_steps int")
    assert_df_equality(sessionize(events, "UTC").select("anonymous_id", "started_ts", "funnel_steps"), expected,
                       ignore_row_order=True, ignore_nullable=True)


def test_sessionize_counts_a_sessions_events_on_each_date_and_takes_its_first_user_and_entry(spark):
    late, d1, d2 = dt.datetime(2024, 3, 1, 23, 50), dt.date(2024, 3, 1), dt.date(2024, 3, 2)
    minutes = [late + dt.timedelta(minutes=n) for n in range(0, 50, 10)]  # 23:50 .. 00:30, one session
    events = silver_events(
        spark,
        {**session_event("a", "a1", minutes[0], "page_view", "/"), "utm_source": "news"},
        session_event("a", "a2", minutes[1], "login", user_id=7),
        session_event("a", "a3", minutes[2], "page_view", "/products/1", user_id=8),  # not the first user
        session_event("a", "a4", minutes[3], "purchase", user_id=7),
        session_event("a", "a5", minutes[4], "page_view", "/cart"),
        session_event("b", "b1", minutes[0], "page_view", "/"))
    rows = {r["anonymous_id"]: r.asDict(recursive=True) for r in sessionize(events, "UTC").collect()}
    a = rows["a"]
    assert (a["session_date"], a["started_ts"], a["ended_ts"], a["duration_s"]) == (d1, minutes[0], minutes[4], 2400)
    assert (a["event_count"], a["page_count"], a["user_id"], a["person_id"]) == (5, 3, 7, "u7")
    assert (a["entry_page"], a["utm_source"], a["is_converted"]) == ("/", "news", True)
    assert a["days"] == [{"event_date": d1, "events": 1, "purchased": False},
                         {"event_date": d2, "events": 4, "purchased": True}]
    assert rows["b"]["days"] == [{"event_date": d1, "events": 1, "purchased": False}]
    assert (rows["b"]["user_id"], rows["b"]["person_id"], rows["b"]["is_converted"]) == (None, "b", False)


def test_resessionize_rebuilds_the_changed_devices_near_their_changed_dates_and_copies_every_other_session(spark):
    def at(day, hour, minute=0):
        return dt.datetime(2024, 3, day, hour, minute) if day else dt.datetime(2024, 2, 29, hour, minute)

    built = [  # the events the sessions were built from
        session_event("a", "a1", at(1, 10), "page_view", "/"), session_event("a", "a2", at(1, 10, 10), "click"),
        session_event("a", "a3", at(1, 11), "page_view", "/cart"),  # 50 minutes later: a second session
        session_event("a", "a4", at(5, 9), "page_view", "/"),  # four days later: far from the late event
        session_event("b", "b1", at(1, 10), "page_view", "/"),  # no late event
        session_event("c", "c1", at(0, 23, 50), "page_view", "/"), session_event("c", "c2", at(1, 0, 10), "click")]
    late = [session_event("a", "a9", at(1, 10, 35), "click"),  # joins a's two sessions of March 1st into one
            session_event("c", "c9", at(1, 0, 20), "click")]  # extends c's session of February 29th
    stored = conform(sessionize(silver_events(spark, *built), "UTC"), SESSIONS)
    # a mark on every stored session: one copied as it is keeps it, one built again loses it
    stored = stored.withColumn("entry_page", F.concat(F.col("entry_page"), F.lit(" (stored)")))
    changed = spark.createDataFrame([("a", dt.date(2024, 3, 1)), ("c", dt.date(2024, 3, 1))],
                                    "anonymous_id string, event_date date")
    sessions = resessionize(silver_events(spark, *built, *late), stored, changed, "UTC")
    assert sessions.schema == stored.schema
    expected = spark.createDataFrame(
        [("a", at(1, 10), 4, "/"), ("a", at(5, 9), 1, "/ (stored)"), ("b", at(1, 10), 1, "/ (stored)"),
         ("c", at(0, 23, 50), 3, "/")],
        "anonymous_id string, started_ts timestamp, event_count long, entry_page string")
    assert_df_equality(sessions.select(*expected.columns), expected, ignore_row_order=True, ignore_nullable=True)
