"""parse_access_log on Common and Combined Log Format lines, including real-world oddities."""
import datetime as dt

import pytest
from pyspark.sql import functions as F

from transformations.access_logs import parse_access_log
from transformations.common import with_regex_groups

RAW_SCHEMA = "value string, _source_file string, _ingested_at timestamp, _batch_id string"


def parse(spark, lines, time_zone="UTC"):
    raw = spark.createDataFrame([(line, "file:/l/a.log", dt.datetime(2024, 1, 1), "b") for line in lines],
                                RAW_SCHEMA)
    return parse_access_log(raw, time_zone).collect()


def test_parse_access_log_common_format_honours_the_offset(spark):
    [row] = parse(spark, ['in24.inetnebr.com - - [01/Aug/1995:00:00:01 -0400] "GET /shuttle/missions/sts-68/'
                          'news/sts-68-mcc-05.txt HTTP/1.0" 200 1839'])
    assert row["reject_reason"] is None
    assert row["request_ts"] == dt.datetime(1995, 8, 1, 4, 0, 1)
    assert (row["host"], row["method"], row["protocol"], row["status"], row["bytes"]) == (
        "in24.inetnebr.com", "GET", "HTTP/1.0", 200, 1839)
    assert row["path"] == "/shuttle/missions/sts-68/news/sts-68-mcc-05.txt"
    assert row["is_page_view"] and not row["is_bot"] and not row["is_static"]
    assert row["referrer"] is None and row["user_agent"] is None


def test_parse_access_log_combined_format_and_business_date(spark):
    [row] = parse(spark, ['66.249.65.159 - - [05/Mar/2024:00:08:38 +0900] "GET /robots.txt HTTP/1.1" 200 5896 "-" '
                          '"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"'], "Asia/Seoul")
    assert row["request_ts"] == dt.datetime(2024, 3, 4, 15, 8, 38)
    assert row["request_date"] == dt.date(2024, 3, 5)
    assert row["is_bot"] and not row["is_page_view"] and row["referrer"] is None


@pytest.mark.parametrize("request_line,method,path,protocol", [
    ("GET /ksc.html", "GET", "/ksc.html", None),                                 # HTTP/0.9: no protocol
    ("GET /shuttle missions HTTP/1.0", "GET", "/shuttle missions", "HTTP/1.0"),  # a space in the URI
    ("GET /images/   HTTP/1.0", "GET", "/images/", "HTTP/1.0"),
    ("GET /elv/new01.gif> ", "GET", "/elv/new01.gif>", None),
])
def test_parse_access_log_odd_request_lines_still_parse(spark, request_line, method, path, protocol):
    [row] = parse(spark, [f'host - - [01/Aug/1995:00:00:01 -0400] "{request_line}" 200 -'])
    assert row["reject_reason"] is None
    assert (row["method"], row["path"], row["protocol"], row["bytes"]) == (method, path, protocol, None)


def test_parse_access_log_flags_static_assets_with_query_strings(spark):
    [row] = parse(spark, ['h - - [01/Aug/1995:00:00:01 -0400] "GET /images/logo.gif?x=1 HTTP/1.0" 304 0'])
    assert row["is_static"] and not row["is_page_view"]


@pytest.mark.parametrize("line,reason", [
    ("", "empty_line"),
    ("com - - [01/Aug/1995:00:1", "malformed_line"),
    ('h - - [01/Aug/1995:00:00:01 -0400] "GET / HTTP/1.0" XYZ 200 10', "malformed_line"),
    ("\x16\x03\x01\x02\x00\x01", "malformed_line"),
    ('h - - [41/Foo/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 10', "invalid_timestamp"),
])
def test_parse_access_log_rejects_with_reason(spark, line, reason):
    assert parse(spark, [line])[0]["reject_reason"] == reason


def test_parse_access_log_repeated_lines_get_distinct_record_ids(spark):
    line = 'h - - [01/Aug/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 10'
    rows = parse(spark, [line, line])
    assert len({r["record_id"] for r in rows}) == 2


def test_with_regex_groups_equals_rlike_and_regexp_extract_on_every_path(spark):
    """One regex pass gives what rlike plus one regexp_extract per group gives: for matching
    lines, lines that do not match, lines holding the split separator, and null."""
    pattern = r"^(\w+)=(\S*)(?: #(.*))?$"
    texts = ["a=1", "a=1 #note", "b= #", "no match here", "", "c=\u0001x #y\u0001z", "d\u0001=1", None]
    df = spark.createDataFrame([(t,) for t in texts], "text string")
    got = with_regex_groups(df, "text", pattern, ["key", "val", "note"], matched="ok").collect()
    expected = df.select("text", F.col("text").rlike(pattern).alias("ok"),
                         *[F.regexp_extract("text", pattern, i).alias(n)
                           for i, n in enumerate(["key", "val", "note"], 1)]).collect()
    for row, want in zip(got, expected):
        if want["text"] is None:
            assert not row["ok"]
            continue
        assert row.asDict() == want.asDict(), want["text"]
    assert [r["ok"] for r in got[:4]] == [True, True, True, False]
    assert got[5]["val"] == "\u0001x" and got[5]["note"] == "y\u0001z"
