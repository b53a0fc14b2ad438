"""Render the web traffic as Apache/nginx Combined Log Format files, bots and dirt included.

Two servers behind a load balancer, each logging in its own time zone and rotating at
its local midnight: access_logs/<local date>/<server>.log.
"""
from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import random

from world import catalog
from world.model import DAY_MS, Event, Params
from world.render_events import BadRecord

MALFORMED_LINE = "malformed_line"
SERVERS = (("web-1", dt.timezone.utc), ("web-2", dt.timezone(dt.timedelta(hours=9))))
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# how an event of the web front end shows up as a request
REQUESTS = {
    "page_view": ("GET", 200),
    "add_to_cart": ("POST", 200),
    "checkout": ("GET", 200),
    "purchase": ("POST", 201),
    "login": ("POST", 302),
    "signup": ("POST", 302),
}


@dataclasses.dataclass(frozen=True)
class Request:
    ts_s: int            # whole seconds: the log format has no finer resolution
    ip: str
    method: str
    path: str
    status: int
    bytes: int | None    # None is logged as "-"
    referrer: str | None
    user_agent: str
    is_bot: bool
    is_static: bool
    server: str


def clf_time(ts_s: int, zone: dt.timezone) -> str:
    t = dt.datetime.fromtimestamp(ts_s, tz=zone)
    offset = t.strftime("%z")
    return f"{t.day:02d}/{MONTHS[t.month - 1]}/{t.year}:{t:%H:%M:%S} {offset}"


def to_line(request: Request, zone: dt.timezone) -> str:
    size = "-" if request.bytes is None else str(request.bytes)
    return (f'{request.ip} - - [{clf_time(request.ts_s, zone)}] "{request.method} {request.path} HTTP/1.1" '
            f'{request.status} {size} "{request.referrer or "-"}" "{request.user_agent}"')


def web_requests(params: Params, events: list[Event]) -> list[Request]:
    """Every request the web servers saw: the web events, their static assets, 404s and bots."""
    rng = random.Random(f"{params.seed}:access_logs")
    requests = []
    for event in events:
        if event.platform != "web" or event.event_type not in REQUESTS or not event.page:
            continue
        server = SERVERS[hash_ip(event.ip) % len(SERVERS)][0]
        method, status = REQUESTS[event.event_type]
        ts_s = event.ts_ms // 1000
        path = event.page if method == "GET" else _api_path(event.event_type)
        requests.append(Request(ts_s, event.ip, method, path, status, rng.randint(2_000, 60_000),
                                event.referrer, event.user_agent, False, False, server))
        if event.event_type == "page_view":
            for asset in rng.sample(catalog.STATIC_ASSETS, rng.randint(0, 3)):
                cached = rng.random() < 0.3
                requests.append(Request(ts_s, event.ip, "GET", asset, 304 if cached else 200,
                                        None if cached else rng.randint(500, 200_000), event.page,
                                        event.user_agent, False, True, server))
            if rng.random() < 0.02:
                requests.append(Request(ts_s + 1, event.ip, "GET", f"/products/{params.products + rng.randint(1, 99)}",
                                        404, rng.randint(200, 900), None, event.user_agent, False, False, server))
    for day in range(params.days):
        day_rng = random.Random(f"{params.seed}:bots:{day}")
        for _ in range(max(5, params.users // 10)):
            ts_s = (params.start_ms + day * DAY_MS) // 1000 + day_rng.randint(0, 86_399)
            agent = day_rng.choice(catalog.BOT_AGENTS)
            ip = f"66.249.{day_rng.randint(64, 95)}.{day_rng.randint(1, 254)}"
            path = day_rng.choice(("/robots.txt", "/sitemap.xml", *catalog.CONTENT_PAGES,
                                   f"/products/{day_rng.randint(1, params.products)}"))
            requests.append(Request(ts_s, ip, "GET", path, 200, day_rng.randint(300, 40_000), None, agent,
                                    True, False, SERVERS[hash_ip(ip) % len(SERVERS)][0]))
    requests.sort(key=lambda r: (r.ts_s, r.server, r.ip, r.path))
    return requests


def render_access_logs(params: Params, requests: list[Request], dirt_rate: float
                       ) -> tuple[dict[str, str], list[BadRecord]]:
    rng = random.Random(f"{params.seed}:access_log_dirt")
    zones = dict(SERVERS)
    lines: dict[str, list[str]] = collections.defaultdict(list)
    bad = []
    for request in requests:
        zone = zones[request.server]
        local_day = dt.datetime.fromtimestamp(request.ts_s, tz=zone).date()
        path = f"access_logs/{local_day.isoformat()}/{request.server}.log"
        line = to_line(request, zone)
        lines[path].append(line)
        if rng.random() < dirt_rate:
            junk = rng.choice((line[: rng.randint(5, line.index('"') + 5)],  # cut before the request ends
                               "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS hello sent to port 80
                               line.replace(' HTTP/1.1" ', ' HTTP/1.1" XYZ ', 1)))  # no numeric status
            lines[path].append(junk)
            bad.append(BadRecord("access_logs", path, junk, MALFORMED_LINE))
    files = {path: "".join(f"{line}\n" for line in rows) for path, rows in lines.items()}
    return files, bad


def hash_ip(ip: str) -> int:
    return sum(int(part) for part in ip.split("."))


def _api_path(event_type: str) -> str:
    return {"add_to_cart": "/api/cart", "purchase": "/api/orders", "login": "/login", "signup": "/signup"}[event_type]
