"""Invariants of the sample world: determinism, dirt within tolerance, truth consistent
with the clean records and with the files, referential integrity."""
from __future__ import annotations

import collections
import csv
import datetime as dt
import io
import json
import math
import re
from pathlib import Path

import pytest

from world.model import DAY_MS, Params
from world.render_events import Dirt
from world.simulate import simulate
from world.writer import generate

TINY = Params(seed=7, start_date=dt.date(2024, 3, 1), days=6, users=120, products=25, dirt_rate=0.02)
CLF = re.compile(r'^(\S+) (\S+) (\S+) \[([^\]]+)\] "([^"]*)" (\d{3}) (\d+|-)(?: "([^"]*)" "([^"]*)")?$')


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory):
    root = tmp_path_factory.mktemp("world")
    manifest = generate(TINY, root / "landing", root / "truth")
    return root / "landing", root / "truth", manifest


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def row_text(row: dict) -> str:
    """A CSV row as the dump wrote it, to compare with recorded bad rows."""
    text = io.StringIO()
    csv.writer(text, lineterminator="").writerow(row.values())
    return text.getvalue()


def bad_records(truth: Path) -> list[dict]:
    return [json.loads(line) for line in (truth / "bad_records.jsonl").read_text(encoding="utf-8").splitlines()]


def test_generate_same_seed_gives_byte_identical_files(tiny_world, tmp_path):
    landing, truth, manifest = tiny_world
    again = generate(TINY, tmp_path / "landing", tmp_path / "truth")
    assert again["files"] == manifest["files"]
    for relative in manifest["files"]:
        assert (tmp_path / "landing" / relative).read_bytes() == (landing / relative).read_bytes()
    for name in ("UTC/daily_kpis.csv", "Asia_Seoul/funnel_daily.csv", "bad_records.jsonl", "events.csv"):
        assert (tmp_path / "truth" / name).read_bytes() == (truth / name).read_bytes()


def test_generate_other_seed_gives_other_world(tiny_world, tmp_path):
    _, _, manifest = tiny_world
    other = generate(Params(**{**TINY.__dict__, "seed": 8}), tmp_path / "landing", tmp_path / "truth")
    assert other["files"] != manifest["files"]


def test_generate_keeps_same_world_and_refuses_a_different_one(tiny_world, tmp_path):
    generate(TINY, tmp_path / "landing", tmp_path / "truth")
    assert generate(TINY, tmp_path / "landing", tmp_path / "truth")["counts"]["files"] > 0
    with pytest.raises(FileExistsError, match="pass --force"):
        generate(Params(**{**TINY.__dict__, "days": 3}), tmp_path / "landing", tmp_path / "truth")


def event_lines(landing: Path) -> list[tuple[str, str]]:
    return [(str(p.relative_to(landing)), line) for p in sorted((landing / "events").rglob("*.jsonl"))
            for line in p.read_text(encoding="utf-8").split("\n") if line]


def test_every_event_line_is_clean_or_a_recorded_bad_record(tiny_world):
    landing, truth, _ = tiny_world
    clean_ids = {row["event_id"] for row in read_csv(truth / "events.csv")}
    expected_bad = collections.Counter((b["file"], b["raw"]) for b in bad_records(truth) if b["source"] == "events")
    seen_ids, unexpected = set(), []
    for path, line in event_lines(landing):
        if expected_bad[(path, line)] > 0:
            expected_bad[(path, line)] -= 1
            continue
        document = json.loads(line)  # anything not recorded as bad must be a clean event
        if document["event_id"] not in clean_ids:
            unexpected.append(line)
        seen_ids.add(document["event_id"])
    assert unexpected == []
    assert +expected_bad == collections.Counter()  # every recorded bad line is really in the files
    assert seen_ids == clean_ids  # no clean event lost, truncated files included


def test_dirt_rates_are_within_tolerance(tmp_path):
    params = Params(seed=3, start_date=dt.date(2024, 3, 1), days=5, users=400, products=40, dirt_rate=0.02)
    generate(params, tmp_path / "landing", tmp_path / "truth")
    clean = len(read_csv(tmp_path / "truth" / "events.csv"))
    reasons = collections.Counter(b["reason"] for b in bad_records(tmp_path / "truth") if b["source"] == "events")
    dirt = Dirt.scaled(params.dirt_rate)
    for reason, rate in (("unknown_event_type", dirt.unknown_type), ("future_timestamp", dirt.future),
                         ("invalid_timestamp", dirt.invalid_timestamp), ("missing_required_field", dirt.missing_field)):
        expected = clean * rate
        assert abs(reasons[reason] - expected) < 5 * math.sqrt(expected), (reason, reasons[reason], expected)
    lines = event_lines(tmp_path / "landing")
    ids = collections.Counter()
    for path, line in lines:
        if "_redelivered" in path:  # a truncated file's second delivery duplicates it on purpose
            continue
        try:
            ids[json.loads(line)["event_id"]] += 1
        except (ValueError, KeyError):
            pass
    duplicates = sum(n - 1 for n in ids.values() if n > 1)
    expected = clean * dirt.duplicate
    assert abs(duplicates - expected) < 5 * math.sqrt(expected)


def test_some_events_arrive_days_late_in_a_later_file(tiny_world):
    landing, truth, _ = tiny_world
    true_ts = {row["event_id"]: int(row["event_ts_ms"]) for row in read_csv(truth / "events.csv")}
    late = 0
    for path, line in event_lines(landing):
        try:
            event_id = json.loads(line).get("event_id")
        except ValueError:
            continue
        if event_id in true_ts:
            file_day = dt.date.fromisoformat(path.split("/")[1])
            event_day = dt.datetime.fromtimestamp(true_ts[event_id] / 1000, tz=dt.timezone.utc).date()
            late += (file_day - event_day).days >= 1
    assert late > 0


def test_sessions_follow_the_thirty_minute_rule():
    world = simulate(TINY)
    by_device = collections.defaultdict(list)
    for event in world.events:
        by_device[event.anonymous_id].append(event)
    for events in by_device.values():
        events.sort(key=lambda e: e.ts_ms)
        for before, after in zip(events, events[1:]):
            same = before.session_id == after.session_id
            assert same == (after.ts_ms - before.ts_ms <= 30 * 60_000), (before, after)


def test_truth_revenue_matches_the_last_payments_dump(tiny_world):
    landing, truth, _ = tiny_world
    last_day = TINY.start_date + dt.timedelta(days=TINY.days - 1)
    payments = read_csv(landing / "oltp" / "payments" / last_day.isoformat() / "payments.csv")
    bad_raw = {b["raw"] for b in bad_records(truth) if b["source"] == "oltp/payments"}
    payments = [row for row in payments if row_text(row) not in bad_raw]
    cents = sum(round(float(row["amount"]) * 100) for row in payments if row["paid_at"] >= TINY.start_date.isoformat())
    refunded = sum(round(float(row["amount"]) * 100) for row in payments if row["refunded_at"])
    for zone in ("UTC", "Asia_Seoul"):
        kpis = read_csv(truth / zone / "daily_kpis.csv")
        assert sum(int(r["gross_revenue_cents"]) for r in kpis) == cents
        assert sum(int(r["refunds_cents"]) for r in kpis) == refunded


def test_truth_rolling_users_are_ordered_and_business_days_shift_with_zone(tiny_world):
    _, truth, _ = tiny_world
    utc = read_csv(truth / "UTC" / "daily_kpis.csv")
    seoul = read_csv(truth / "Asia_Seoul" / "daily_kpis.csv")
    for row in utc + seoul:
        assert int(row["dau"]) <= int(row["wau"]) <= int(row["mau"])
    assert len(utc) == TINY.days and len(seoul) == TINY.days + 1  # Seoul's last day spills over
    assert sum(int(r["signups"]) for r in utc) == sum(int(r["signups"]) for r in seoul)
    assert [r["dau"] for r in utc] != [r["dau"] for r in seoul[:-1]]


def test_clean_world_is_referentially_consistent():
    world = simulate(TINY)
    users = {u.user_id: u for u in world.users}
    products = {p.product_id for p in world.products}
    for order in world.orders:
        assert order.user_id in users and users[order.user_id].created_ms <= order.placed_ms
        assert all(item.product_id in products for item in order.items)
        assert order.paid_ms is None or order.paid_ms > order.placed_ms
        assert (order.paid_ms is None) == (order.cancelled_ms is not None)


def test_purchase_events_and_orders_disagree_a_little_as_in_real_tracking():
    world = simulate(Params(**{**TINY.__dict__, "users": 800}))
    order_ids = {o.order_id for o in world.orders}
    tracked = {e.props["order_id"] for e in world.events if e.event_type == "purchase"}
    assert {o.order_id for o in world.orders if o.has_event} <= tracked
    assert tracked - order_ids  # purchase events without an order ...
    assert any(not o.has_event for o in world.orders)  # ... and orders without a purchase event


def test_dumps_round_trip_through_a_csv_reader_with_quotes_commas_and_newlines(tiny_world):
    landing, truth, _ = tiny_world
    last_day = (TINY.start_date + dt.timedelta(days=TINY.days - 1)).isoformat()
    products = read_csv(landing / "oltp" / "products" / last_day / "products.csv")
    assert len(products) == TINY.products
    names = [p["name"] for p in products]
    assert any("\n" in n or "," in n or '"' in n for n in names)
    users = read_csv(landing / "oltp" / "users" / last_day / "users.csv")
    orders = read_csv(landing / "oltp" / "orders" / last_day / "orders.csv")
    items = read_csv(landing / "oltp" / "order_items" / last_day / "order_items.csv")
    bad = {(b["source"], b["raw"]) for b in bad_records(truth)}

    def is_bad(table, row):
        return (f"oltp/{table}", row_text(row)) in bad

    order_ids = {o["order_id"] for o in orders if not is_bad("orders", o)}
    assert all(i["order_id"] in order_ids for i in items if not is_bad("order_items", i))
    assert all(u["user_id"] for u in users if not is_bad("users", u))


def test_access_log_lines_parse_except_the_recorded_bad_ones(tiny_world):
    landing, truth, _ = tiny_world
    bad = collections.Counter(b["raw"] for b in bad_records(truth) if b["source"] == "access_logs")
    unparsed = collections.Counter()
    total = 0
    for path in (landing / "access_logs").rglob("*.log"):
        for line in path.read_text(encoding="utf-8").split("\n"):
            if line:
                total += 1
                if not CLF.match(line):
                    unparsed[line] += 1
    assert unparsed == bad
    assert total > 1000


def test_world_spans_the_requested_days():
    world = simulate(TINY)
    assert min(e.ts_ms for e in world.events) >= TINY.start_ms
    assert max(e.ts_ms for e in world.events) < TINY.start_ms + TINY.days * DAY_MS


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_a_held_back_day_arrives_as_a_daily_delivery_would_bring_it(tiny_world, tmp_path):
    import shutil
    from world.delivery import deliver, delivered, move_days
    source = tiny_world[0]
    landing, held, daily = tmp_path / "landing", tmp_path / "held", tmp_path / "daily"
    shutil.copytree(source, landing)
    last = TINY.start_date + dt.timedelta(days=TINY.days - 1)

    moved = move_days(landing, held, lambda day: day >= last)
    assert moved > 0 and max(day for day, _ in delivered(landing)) < last
    assert move_days(landing, held, lambda day: day >= last) == 0  # holding back twice moves nothing
    assert min(day for day, _ in delivered(held)) == last
    assert files_under(landing) | files_under(held) == files_under(source)

    history = files_under(landing)
    move_days(held, landing, lambda day: day == last)
    deliver(source, daily, last)
    assert files_under(daily) and files_under(landing) - history == files_under(daily)
    assert max(day for day, _ in delivered(held)) > last  # the last day's late events come later still
