"""The true value of every gold metric, computed from the clean world before any dirt.

This is a second, independent implementation of docs/METRICS.md in plain Python; the
pipeline's gold tables are checked against it, never against themselves. Money is in
integer cents; a ratio whose denominator is zero is None.
"""
from __future__ import annotations

import collections
import datetime as dt
import math
from zoneinfo import ZoneInfo

from world import catalog
from world.model import World
from world.render_access_logs import Request

FUNNEL_STEPS = ("view", "add_to_cart", "checkout", "purchase")
TOP_PAGES = 5


def ratio(numerator, denominator):
    return None if not denominator else numerator / denominator


class _Dates:
    def __init__(self, zone: str):
        self.zone = ZoneInfo(zone)
        self.cache: dict[int, dt.date] = {}

    def of(self, ms: int) -> dt.date:
        hour = ms // 3_600_000  # every zone used here has whole-hour offsets
        if hour not in self.cache:
            self.cache[hour] = dt.datetime.fromtimestamp(hour * 3600, tz=self.zone).date()
        return self.cache[hour]


def business_dates(world: World, zone: str) -> list[dt.date]:
    dates = _Dates(zone)
    first, last = dates.of(world.params.start_ms), dates.of(world.params.end_ms - 1)
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def sessions(world: World) -> dict[str, dict]:
    """Each session: its events in time order, start, and the person it belongs to
    (its user if any event names one, else the anonymous id)."""
    by_session: dict[str, list] = collections.defaultdict(list)
    for event in world.events:
        by_session[event.session_id].append(event)
    result = {}
    for session_id, events in by_session.items():
        events.sort(key=lambda e: (e.ts_ms, e.event_id))
        user = next((e.user_id for e in events if e.user_id is not None), None)
        result[session_id] = {"events": events, "start": events[0].ts_ms, "user_id": user,
                              "person": f"u{user}" if user is not None else events[0].anonymous_id,
                              "utm_source": events[0].utm[0]}
    return result


def in_world(world: World, ms: int | None) -> bool:
    return ms is not None and world.params.start_ms <= ms < world.params.end_ms


def daily_kpis(world: World, zone: str, all_sessions: dict[str, dict]) -> list[dict]:
    dates = _Dates(zone)
    gross, refunds, orders = collections.Counter(), collections.Counter(), collections.Counter()
    paying: dict[dt.date, set] = collections.defaultdict(set)
    first_paid: dict[int, int] = {}
    for order in world.orders:
        if in_world(world, order.paid_ms):
            day = dates.of(order.paid_ms)
            gross[day] += order.total_cents
            orders[day] += 1
            paying[day].add(order.user_id)
            first_paid[order.user_id] = min(first_paid.get(order.user_id, order.paid_ms), order.paid_ms)
        if in_world(world, order.refunded_ms):
            refunds[dates.of(order.refunded_ms)] += order.total_cents
    new_paying = collections.Counter(dates.of(ms) for ms in first_paid.values())
    signups = collections.Counter(dates.of(u.created_ms) for u in world.users if in_world(world, u.created_ms))
    active, visitors, buyers = _activity(all_sessions, dates)

    rows = []
    for day in business_dates(world, zone):
        wau = set().union(*(active.get(day - dt.timedelta(days=n), set()) for n in range(7)))
        mau = set().union(*(active.get(day - dt.timedelta(days=n), set()) for n in range(30)))
        dau = len(active.get(day, ()))
        rows.append({
            "business_date": day, "gross_revenue_cents": gross[day], "refunds_cents": refunds[day],
            "net_revenue_cents": gross[day] - refunds[day], "orders": orders[day],
            "average_order_value": ratio(gross[day] / 100, orders[day]), "signups": signups[day],
            "dau": dau, "wau": len(wau), "mau": len(mau), "stickiness": ratio(dau, len(mau)),
            "paying_users": len(paying[day]), "new_paying_users": new_paying[day],
            "arpu": ratio(gross[day] / 100, dau), "arppu": ratio(gross[day] / 100, len(paying[day])),
            "visitors": len(visitors.get(day, ())), "buyers": len(buyers.get(day, ())),
            "visitor_conversion": ratio(len(buyers.get(day, ())), len(visitors.get(day, ()))),
        })
    return rows


def _activity(all_sessions, dates: _Dates):
    active: dict[dt.date, set] = collections.defaultdict(set)
    visitors: dict[dt.date, set] = collections.defaultdict(set)
    buyers: dict[dt.date, set] = collections.defaultdict(set)
    for session in all_sessions.values():
        for event in session["events"]:
            day = dates.of(event.ts_ms)
            visitors[day].add(session["person"])
            if session["user_id"] is not None:
                active[day].add(session["user_id"])
            if event.event_type == "purchase":
                buyers[day].add(session["person"])
    return active, visitors, buyers


def funnel_daily(world: World, zone: str, all_sessions: dict[str, dict]) -> list[dict]:
    dates = _Dates(zone)
    counts: dict[dt.date, list[int]] = collections.defaultdict(lambda: [0] * (len(FUNNEL_STEPS) + 1))
    for session in all_sessions.values():
        day = dates.of(session["start"])
        counts[day][0] += 1
        step = 0
        for event in session["events"]:
            if step < len(FUNNEL_STEPS) and _is_step(event, FUNNEL_STEPS[step]):
                step += 1
        for reached in range(1, step + 1):
            counts[day][reached] += 1
    rows = []
    for day in business_dates(world, zone):
        sessions_n, *reached = counts[day]
        row = {"business_date": day, "sessions": sessions_n}
        previous = sessions_n
        for name, value in zip(FUNNEL_STEPS, reached):
            row[f"{name}_sessions"] = value
            row[f"{name}_rate"] = ratio(value, previous)
            previous = value
        rows.append(row)
    return rows


def _is_step(event, step: str) -> bool:
    if step == "view":
        return event.event_type == "page_view" and (event.page or "").startswith("/products/")
    return event.event_type == step


def retention_cohorts(world: World, zone: str, all_sessions: dict[str, dict]) -> list[dict]:
    dates = _Dates(zone)
    last_date = business_dates(world, zone)[-1]
    cohort = {u.user_id: _monday(dates.of(u.created_ms)) for u in world.users if in_world(world, u.created_ms)}
    active, _, _ = _activity(all_sessions, dates)
    retained: dict[tuple[dt.date, int], set] = collections.defaultdict(set)
    for day, users in active.items():
        for user in users:
            if user in cohort and day >= cohort[user]:
                retained[(cohort[user], (_monday(day) - cohort[user]).days // 7)].add(user)
    sizes = collections.Counter(cohort.values())
    rows = []
    for week in sorted(sizes):
        for weeks_since in range((_monday(last_date) - week).days // 7 + 1):
            users = len(retained.get((week, weeks_since), ()))
            rows.append({"cohort_week": week, "weeks_since_signup": weeks_since, "cohort_users": sizes[week],
                         "retained_users": users, "retained_share": ratio(users, sizes[week])})
    return rows


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def first_touch(all_sessions: dict[str, dict]) -> dict[int, str]:
    """Each user's channel: the utm_source of their earliest session, or 'direct'."""
    earliest: dict[int, tuple[int, str]] = {}
    for session in all_sessions.values():
        user = session["user_id"]
        if user is not None and (user not in earliest or session["start"] < earliest[user][0]):
            earliest[user] = (session["start"], session["utm_source"] or "direct")
    return {user: channel for user, (_, channel) in earliest.items()}


def marketing_daily(world: World, zone: str, all_sessions: dict[str, dict]) -> list[dict]:
    dates = _Dates(zone)
    channel_of = first_touch(all_sessions)
    spend = collections.Counter()
    for row in world.ad_spend:
        spend[(row.spend_date, row.channel)] += row.spend_cents
    revenue, first_paid = collections.Counter(), {}
    for order in world.orders:
        if in_world(world, order.paid_ms):
            revenue[(dates.of(order.paid_ms), channel_of.get(order.user_id, "direct"))] += order.total_cents
            first_paid[order.user_id] = min(first_paid.get(order.user_id, order.paid_ms), order.paid_ms)
    new_customers = collections.Counter((dates.of(ms), channel_of.get(u, "direct")) for u, ms in first_paid.items())
    rows = []
    for day in business_dates(world, zone):
        for channel in (*catalog.PAID_CHANNELS, "direct"):
            key = (day, channel)
            rows.append({"business_date": day, "channel": channel, "spend_cents": spend[key],
                         "new_customers": new_customers[key], "attributed_revenue_cents": revenue[key],
                         "cac": ratio(spend[key] / 100, new_customers[key]),
                         "roas": ratio(revenue[key], spend[key])})
    return rows


def experiment_results(world: World, zone: str) -> list[dict]:
    """Per business date (cumulative from the world's start), experiment and variant."""
    dates = _Dates(zone)
    exposures: dict[str, dict[int, tuple[int, str]]] = collections.defaultdict(dict)
    purchases: dict[int, list[int]] = collections.defaultdict(list)
    for event in world.events:
        if event.event_type == "experiment_exposure" and event.user_id is not None:
            first = exposures[event.props["experiment_id"]].get(event.user_id)
            if first is None or event.ts_ms < first[0]:
                exposures[event.props["experiment_id"]][event.user_id] = (event.ts_ms, event.props["variant"])
        elif event.event_type == "purchase" and event.user_id is not None:
            purchases[event.user_id].append(event.ts_ms)
    rows = []
    for day in business_dates(world, zone):
        for experiment in catalog.EXPERIMENTS:
            stats = {}
            for user, (first_ms, variant) in exposures[experiment.experiment_id].items():
                if dates.of(first_ms) > day:
                    continue
                exposed, converted = stats.get(variant, (0, 0))
                hit = any(first_ms <= t and dates.of(t) <= day for t in purchases.get(user, ()))
                stats[variant] = (exposed + 1, converted + hit)
            rows.extend(_experiment_rows(day, experiment, stats))
    return rows


def _experiment_rows(day, experiment, stats) -> list[dict]:
    control_n, control_x = stats.get("control", (0, 0))
    total = sum(n for n, _ in stats.values())
    chi2 = sum((stats.get(v, (0, 0))[0] - total * share) ** 2 / (total * share)
               for v, share in zip(experiment.variants, experiment.split)) if total else None
    srm_p = math.erfc(math.sqrt(chi2 / 2)) if chi2 is not None else None
    rows = []
    for variant in experiment.variants:
        n, x = stats.get(variant, (0, 0))
        rate = ratio(x, n)
        row = {"business_date": day, "experiment_id": experiment.experiment_id, "variant": variant,
               "exposed_users": n, "converted_users": x, "conversion_rate": rate,
               "lift": None, "p_value": None, "srm_p_value": srm_p,
               "srm_flag": srm_p is not None and srm_p < 0.001}
        if variant != "control" and rate is not None and control_n:
            control_rate = control_x / control_n
            row["lift"] = ratio(rate - control_rate, control_rate)
            pooled = (x + control_x) / (n + control_n)
            se = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / control_n))
            row["p_value"] = math.erfc(abs(rate - control_rate) / se / math.sqrt(2)) if se else None
        rows.append(row)
    return rows


def web_traffic_daily(world: World, zone: str, requests: list[Request]) -> list[dict]:
    dates = _Dates(zone)
    by_day: dict[dt.date, list[Request]] = collections.defaultdict(list)
    for request in requests:
        if in_world(world, request.ts_s * 1000):
            by_day[dates.of(request.ts_s * 1000)].append(request)
    rows = []
    for day in business_dates(world, zone):
        day_requests = by_day.get(day, [])
        n = len(day_requests)
        pages = collections.Counter(r.path for r in day_requests if is_page_view(r))
        classes = collections.Counter(r.status // 100 for r in day_requests)
        rows.append({
            "business_date": day, "requests": n, "distinct_hosts": len({r.ip for r in day_requests}),
            "page_views": sum(pages.values()), "bytes": sum(r.bytes or 0 for r in day_requests),
            "status_2xx_share": ratio(classes[2], n), "status_3xx_share": ratio(classes[3], n),
            "status_4xx_share": ratio(classes[4], n), "status_5xx_share": ratio(classes[5], n),
            "bot_share": ratio(sum(r.is_bot for r in day_requests), n),
            "top_pages": sorted(pages.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_PAGES],
        })
    return rows


def is_page_view(request: Request) -> bool:
    return (request.method == "GET" and not request.is_bot and not request.is_static
            and request.status < 400)
