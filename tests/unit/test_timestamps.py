"""parse_timestamp: the shapes ClientTimestamp reads give the formats' answers, and the rest
still go to the formats."""
import itertools

from pyspark.sql import functions as F

from jobs.common.session import sql_settings
from transformations.events import parse_timestamp, timestamp_by_formats

YEARS = ("0999", "1000", "1900", "1969", "1970", "2000", "2023", "2024", "9999")
MONTHS = ("00", "01", "02", "04", "12", "13")
DAYS = ("00", "01", "28", "29", "30", "31", "32")
TIMES = ("00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60", "1:02:03", "12:3a:00", "12-00-00")
FRACTIONS = ("", ".", ".1", ".12", ".123", ".1234", ".12a")
ZONES = ("Z", "z", "+00:00", "-00:00", "+05:30", "-08:00", "+18:00", "-18:00", "+18:01", "+19:00", "+05:60",
         "+0530", "+05", "-08:00:00", " Z", "")
SEPARATORS = ("T", "t", " ", "_")
NUMBERS = ("0", "7", "1709269402", "17092694021", "170926940212", "1709269402123", "17092694021234",
           "000000000001", "-1", "-1709269402123", "+1709269402", "1.5", "1e3", " 1709269402123",
           "1709269402123 ", "")


def grid() -> list[str]:
    """About 11,700 strings: every date of the years, months and days above at one time, every
    time, fraction, zone and separator above on two dates, and numbers, with and without
    spaces around them."""
    dates = [f"{y}-{m}-{d}" for y, m, d in itertools.product(YEARS, MONTHS, DAYS)]
    texts = [f"{date}{sep}12:34:56.789{zone}" for date in dates for sep in "T " for zone in ("Z", "+05:30", "")]
    texts += [f"{date}{sep}{time}{fraction}{zone}"
              for date, sep, time, fraction, zone in itertools.product(
                  ("2024-02-29", "2023-12-31"), SEPARATORS, TIMES, FRACTIONS, ZONES)]
    texts += list(NUMBERS)
    return texts + [f" {text}" for text in texts[::7]] + [f"{text} " for text in texts[::11]]


def test_client_timestamp_gives_the_formats_answer_on_a_grid_of_strings(spark):
    df = spark.createDataFrame([(text,) for text in grid()], "text string")
    both = df.select("text", parse_timestamp(spark, F.col("text")).alias("fast"),
                     timestamp_by_formats(F.col("text")).alias("formats"),
                     F.call_function("lakehouse_client_timestamp", "text").alias("read")).collect()
    differ = [(r["text"], r["fast"], r["formats"]) for r in both if r["fast"] != r["formats"]]
    assert not differ, differ[:20]
    read = sum(r["read"] is not None for r in both)
    left_to_formats = sum(r["read"] is None and r["formats"] is not None for r in both)
    # the grid holds both kinds: strings ClientTimestamp reads, and valid ones it leaves alone
    assert read > 400 and left_to_formats > 600, (read, left_to_formats)


def test_client_timestamp_reads_no_naive_text_in_a_zone_with_daylight_saving(spark):
    with sql_settings(spark, {"spark.sql.session.timeZone": "America/New_York"}):
        df = spark.createDataFrame([("2024-03-10 02:30:00.000",), ("2024-11-03 01:30:00.000",),
                                    ("2024-07-01 12:00:00.000",), ("2024-07-01T12:00:00.000Z",)], "text string")
        rows = df.select(parse_timestamp(spark, F.col("text")).alias("fast"),
                         timestamp_by_formats(F.col("text")).alias("formats"),
                         F.call_function("lakehouse_client_timestamp", "text").alias("read")).collect()
    assert [r["fast"] for r in rows] == [r["formats"] for r in rows]
    assert [r["read"] is None for r in rows] == [True, True, True, False]
