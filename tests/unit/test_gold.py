"""Gold transformations on inline rows: ad-spend parsing, funnel counts, rolling windows,
first touch, and the experiment statistics."""
import datetime as dt
import math

import pytest
from chispa import assert_df_equality

from transformations.gold.experiments import (chi2_survival, cumulative_results, first_exposures, srm_p_value,
                                              two_proportion_p_value)
from transformations.gold.activity import daily_activity
from transformations.gold.funnel import funnel_daily
from transformations.gold.kpis import activity_daily
from transformations.gold.revenue import customers
from transformations.marketing import parse_ad_spend

RAW = "value string, _source_file string, _ingested_at timestamp, _batch_id string"
D1 = dt.date(2024, 3, 1)


def ad_lines(spark, *lines):
    rows = [(line, "file:/m/ad_spend.csv", dt.datetime(2024, 3, 2), "b") for line in lines]
    return parse_ad_spend(spark.createDataFrame(rows, RAW))


def test_ad_spend_drops_the_header_keeps_quoted_commas_and_names_bad_lines(spark):
    rows = ad_lines(spark, "date,channel,campaign,spend,currency,impressions,clicks",
                    '2024-03-01,Google,"search, ""brand""",326.89,usd,39987,1329',
                    "2024-03-01,google,x,12;5,USD,1,1", "2024-13-01,google,x,1.00,USD,1,1",
                    "2024-03-01,,x,1.00,USD,1,1", "2024-03-01,google,x", "", "a,b,c,d,e,f,g,h").collect()
    good = rows[0]
    assert (good["spend_date"], good["channel"], good["campaign"], str(good["spend"]), good["currency"],
            good["impressions"], good["reject_reason"]) == (D1, "google", 'search, "brand"', "326.89", "USD",
                                                           39987, None)
    assert [r["reject_reason"] for r in rows[1:]] == ["invalid_amount", "invalid_date", "missing_channel",
                                                      "malformed_line", "empty_line", "malformed_line"]


def test_funnel_daily_counts_the_sessions_reaching_each_step_and_each_steps_rate(spark):
    d2 = D1 + dt.timedelta(days=1)
    sessions = spark.createDataFrame([(D1, 0), (D1, 1), (D1, 3), (D1, 4), (D1, 4)],
                                     "session_date date, funnel_steps int")
    dates = spark.createDataFrame([(D1,), (d2,)], "business_date date")
    # D1: 5 sessions, 4 viewed, 3 carted and checked out, 2 bought; D2: no session, no rate
    expected = spark.createDataFrame(
        [(D1, 5, 4, 0.8, 3, 0.75, 3, 1.0, 2, 2 / 3), (d2, 0, 0, None, 0, None, 0, None, 0, None)],
        "business_date date, sessions bigint, view_sessions bigint, view_rate double, add_to_cart_sessions bigint, "
        "add_to_cart_rate double, checkout_sessions bigint, checkout_rate double, purchase_sessions bigint, "
        "purchase_rate double")
    assert_df_equality(funnel_daily(dates, sessions), expected, ignore_row_order=True, ignore_nullable=True)


def test_daily_activity_counts_each_persons_events_on_the_dates_of_their_sessions_days(spark):
    d2 = D1 + dt.timedelta(days=1)
    days = "array<struct<event_date: date, events: bigint, purchased: boolean>>"
    sessions = spark.createDataFrame(
        [("u7", 7, [(D1, 2, False), (d2, 3, True)]),  # a session of user 7 that runs past midnight
         ("u7", 7, [(d2, 1, False)]),  # and another of theirs the next day
         ("anon-1", None, [(D1, 4, False)])],
        f"person_id string, user_id bigint, days {days}")
    expected = spark.createDataFrame([(D1, "u7", "7", 2, False), (d2, "u7", "7", 4, True), (D1, "anon-1", None, 4, False)],
                                     "activity_date date, person_id string, user_id string, events bigint, "
                                     "purchased boolean")
    assert_df_equality(daily_activity(sessions), expected, ignore_row_order=True, ignore_nullable=True,
                       ignore_column_order=True)


def test_activity_daily_counts_wau_and_mau_over_the_dates_ending_on_each_day(spark):
    day = lambda n: D1 + dt.timedelta(days=n)  # noqa: E731
    activity = spark.createDataFrame(
        [(day(0), "u1", "1", True), (day(3), "u2", "2", False), (day(29), "u1", "1", False),
         (day(30), "anon", None, False), (day(30), "u3", "3", True)],
        "activity_date date, person_id string, user_id string, purchased boolean")
    rows = {r["business_date"]: r.asDict() for r in activity_daily([day(29), day(30)], activity).collect()}
    assert {k: rows[day(29)][k] for k in ("dau", "wau", "mau", "visitors", "buyers")} == \
        {"dau": 1, "wau": 1, "mau": 2, "visitors": 1, "buyers": 0}
    # day 0 has left the 30-day window of day 30
    assert {k: rows[day(30)][k] for k in ("dau", "wau", "mau", "visitors", "buyers")} == \
        {"dau": 1, "wau": 2, "mau": 3, "visitors": 2, "buyers": 1}


def test_activity_daily_agrees_with_a_count_by_hand_over_dates_months_apart(spark):
    """Dates further apart than one group of windows (33 days) are counted in several groups;
    every count agrees with one made by hand, at the windows' first and last days too."""
    day = lambda n: D1 + dt.timedelta(days=n)  # noqa: E731
    rows = [(day(n), f"p{u}", None if u % 5 == 0 else f"u{u % 7}", (n + u) % 3 == 0)
            for n in range(90) for u in range(12) if (n * u + n) % 4 == 0]
    activity = spark.createDataFrame(rows, "activity_date date, person_id string, user_id string, purchased boolean")
    dates = [day(n) for n in (0, 6, 7, 29, 30, 33, 34, 40, 64, 89)]

    def users(date, window):
        return len({u for d, _, u, _ in rows if u is not None and dt.timedelta(0) <= date - d < dt.timedelta(window)})

    expected = spark.createDataFrame(
        [(d, users(d, 1), users(d, 7), users(d, 30), sum(1 for r in rows if r[0] == d),
          sum(1 for r in rows if r[0] == d and r[3])) for d in dates],
        "business_date date, dau long, wau long, mau long, visitors long, buyers long")
    assert_df_equality(activity_daily(dates, activity), expected, ignore_row_order=True, ignore_nullable=True)


def test_activity_daily_counts_persons_and_users_apart(spark):
    """Visitors and buyers count persons (two anonymous ones, a user on two devices); DAU, WAU
    and MAU count users, once each whatever their persons."""
    activity = spark.createDataFrame(
        [(D1, "anon1", None, True), (D1, "anon2", None, False), (D1, "phone", "u1", True),
         (D1, "laptop", "u1", False), (D1 - dt.timedelta(days=3), "u2", "u2", False)],
        "activity_date date, person_id string, user_id string, purchased boolean")
    expected = spark.createDataFrame(
        [(D1, 1, 2, 2, 4, 2), (D1 + dt.timedelta(days=1), 0, 2, 2, 0, 0)],
        "business_date date, dau long, wau long, mau long, visitors long, buyers long")
    assert_df_equality(activity_daily([D1, D1 + dt.timedelta(days=1)], activity), expected, ignore_row_order=True,
                       ignore_nullable=True)


def test_customers_take_the_channel_of_the_earliest_session_else_direct(spark):
    t = dt.datetime(2024, 3, 1, 10)
    sessions = spark.createDataFrame(
        [("a", 1, t, "google"), ("b", 1, t - dt.timedelta(hours=1), None), ("c", 2, t, "tiktok"),
         ("d", None, t - dt.timedelta(days=1), "facebook"),
         # two first sessions at one instant: the first utm_source in alphabetical order, or none
         ("e", 4, t, "newsletter"), ("f", 4, t, "google"), ("g", 5, t, "google"), ("h", 5, t, "")],
        "session_id string, user_id bigint, started_ts timestamp, utm_source string")
    captured = spark.createDataFrame([("o1", "3", t)], "order_id string, user_id string, paid_ts timestamp")
    rows = {r["user_id"]: (r["channel"], r["first_session_ts"], r["first_paid_ts"])
            for r in customers(sessions, captured).collect()}
    assert rows == {"1": ("direct", t - dt.timedelta(hours=1), None), "2": ("tiktok", t, None),
                    "3": ("direct", None, t), "4": ("google", t, None), "5": ("direct", t, None)}


def test_statistics_match_their_textbook_values():
    assert chi2_survival(3.841458820694124, 1) == pytest.approx(0.05, rel=1e-9)
    assert chi2_survival(5.991464547107979, 2) == pytest.approx(0.05, rel=1e-9)
    assert chi2_survival(7.814727903251178, 3) == pytest.approx(0.05, rel=1e-9)
    assert srm_p_value([50, 50], [0.5, 0.5]) == 1.0
    # 10/100 vs 20/100: z = 1.98, p = 0.0477
    assert two_proportion_p_value(20, 100, 10, 100) == pytest.approx(math.erfc(1.9802950859533488 / math.sqrt(2)))
    assert two_proportion_p_value(0, 10, 0, 10) is None


def test_cumulative_results_add_up_earlier_dates_and_report_every_configured_variant():
    counts = [{"experiment_id": "x", "variant": "control", "date": D1, "exposed": 10, "converted": 2},
              {"experiment_id": "x", "variant": "control", "date": D1 + dt.timedelta(days=1), "exposed": 10,
               "converted": 3}]
    rows = cumulative_results(counts, {"x": (("control", 0.5), ("treatment", 0.5))}, [D1 + dt.timedelta(days=1)])
    assert [(r[2], r[3], r[4], r[5]) for r in rows] == [("control", 20, 5, 0.25), ("treatment", 0, 0, None)]
    assert rows[0][9] is True  # 20 vs 0 exposures against a 50/50 split: a sample-ratio mismatch


def test_first_exposures_take_each_users_first_variant_and_first_purchase_from_then_on(spark):
    def at(day, hour, minute=0):
        return dt.datetime(2024, 3, day, hour, minute)

    events = spark.createDataFrame([
        ("experiment_exposure", at(2, 10), 1, "e1", "B"), ("experiment_exposure", at(1, 9), 1, "e1", "A"),
        ("purchase", at(1, 8), 1, None, None),  # before the first exposure: not a conversion
        ("purchase", at(3, 12), 1, None, None), ("purchase", at(4, 12), 1, None, None),
        # two variants at one instant: the first in variant order; no purchase
        ("experiment_exposure", at(2, 10), 2, "e1", "B"), ("experiment_exposure", at(2, 10), 2, "e1", "A"),
        ("experiment_exposure", at(2, 11), 2, "e2", "B"),  # another experiment, counted apart
        ("experiment_exposure", at(1, 9), None, "e1", "A"),  # no user: not counted
    ], "event_type string, event_ts timestamp, user_id long, experiment_id string, variant string")
    expected = spark.createDataFrame([
        ("e1", 1, "A", dt.date(2024, 3, 1), dt.date(2024, 3, 3)), ("e1", 2, "A", dt.date(2024, 3, 2), None),
        ("e2", 2, "B", dt.date(2024, 3, 2), None),
    ], "experiment_id string, user_id long, variant string, exposure_date date, conversion_date date")
    assert_df_equality(first_exposures(events, "UTC"), expected, ignore_row_order=True, ignore_nullable=True)
