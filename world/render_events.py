"""Render clean events as hourly JSON-lines files, with the dirt of a real collector.

Files are named by arrival hour: events/<YYYY-MM-DD>/events_<YYYY-MM-DD>T<HH>.jsonl.
Every line that the pipeline must reject is recorded as a BadRecord with its reason.
"""
from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import json
import random

from world import catalog
from world.model import DAY_MS, HOUR_MS, Event, Params, ms_to_datetime

# Reason codes the pipeline must give each rejected event line.
MALFORMED_JSON = "malformed_json"
UNKNOWN_EVENT_TYPE = "unknown_event_type"
FUTURE_TIMESTAMP = "future_timestamp"
INVALID_TIMESTAMP = "invalid_timestamp"
MISSING_FIELD = "missing_required_field"

DRIFT_FIELD = "app_version"  # appears on app events from the middle of the world on


@dataclasses.dataclass(frozen=True)
class BadRecord:
    source: str   # events | access_logs | oltp/<table> | marketing
    file: str     # path relative to the landing directory
    raw: str      # the line or row as written
    reason: str


@dataclasses.dataclass
class Dirt:
    """Rates of each kind of dirt, per clean record (or per file for truncation)."""
    duplicate: float
    late: float
    mixed_timestamp: float
    malformed: float
    unknown_type: float
    future: float
    invalid_timestamp: float
    missing_field: float
    truncated_file: float

    @staticmethod
    def scaled(rate: float) -> Dirt:
        return Dirt(duplicate=3 * rate, late=2 * rate, mixed_timestamp=min(0.5, 20 * rate), malformed=rate,
                    unknown_type=rate, future=rate / 2, invalid_timestamp=rate / 2, missing_field=rate / 2,
                    truncated_file=min(0.2, 3 * rate))


def format_ts(ms: int, style: int) -> str | int:
    """The same instant in one of the formats real clients send."""
    utc = ms_to_datetime(ms)
    millis = f"{utc.microsecond // 1000:03d}"
    if style == 0:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + millis + "Z"
    if style == 1:
        local = utc.astimezone(dt.timezone(dt.timedelta(hours=9)))
        return local.strftime("%Y-%m-%dT%H:%M:%S.") + millis + "+09:00"
    if style == 2:
        local = utc.astimezone(dt.timezone(dt.timedelta(hours=-5)))
        return local.strftime("%Y-%m-%dT%H:%M:%S.") + millis + "-05:00"
    if style == 3:
        return ms
    return utc.strftime("%Y-%m-%d %H:%M:%S.") + millis  # naive: UTC by the collector's contract


def event_document(event: Event, ts: str | int, drift: bool) -> dict:
    source, medium, campaign = event.utm
    document = {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "event_ts": ts,
        "anonymous_id": event.anonymous_id,
        "user_id": event.user_id,
        "platform": event.platform,
        "context": {"ip": event.ip, "user_agent": event.user_agent, "page_path": event.page,
                    "referrer": event.referrer, "utm_source": source, "utm_medium": medium,
                    "utm_campaign": campaign},
        "properties": event.props,
    }
    if drift:
        document[DRIFT_FIELD] = "5.3.0"
    return document


def to_line(document: dict) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def hour_file(arrival_ms: int, suffix: str = "") -> str:
    t = ms_to_datetime(arrival_ms)
    return f"events/{t:%Y-%m-%d}/events_{t:%Y-%m-%dT%H}{suffix}.jsonl"


def render_events(params: Params, events: list[Event], dirt: Dirt) -> tuple[dict[str, str], list[BadRecord]]:
    """{relative path: file text} and the bad records injected into them."""
    rng = random.Random(f"{params.seed}:render_events")
    midpoint = params.start_ms + (params.days // 2) * DAY_MS
    arrivals: dict[str, list[tuple[int, str]]] = collections.defaultdict(list)
    bad: list[BadRecord] = []

    def deliver(arrival: int, line: str, reason: str | None = None) -> None:
        path = hour_file(arrival)
        arrivals[path].append((arrival, line))
        if reason:
            bad.append(BadRecord("events", path, line, reason))

    for event in events:
        style = rng.randint(1, 4) if rng.random() < dirt.mixed_timestamp else 0
        drift = event.platform == "app" and event.ts_ms >= midpoint
        line = to_line(event_document(event, format_ts(event.ts_ms, style), drift))
        arrival = event.ts_ms + rng.randint(200, 90_000)
        if rng.random() < dirt.late:
            arrival += rng.randint(1, 3) * DAY_MS + rng.randint(0, DAY_MS - 1)
        deliver(arrival, line)
        if rng.random() < dirt.duplicate:  # at-least-once delivery: same line again, now or later
            deliver(arrival + (rng.randint(1, 500) if rng.random() < 0.5 else rng.randint(HOUR_MS, DAY_MS)), line)
        if rng.random() < dirt.malformed:
            cut = rng.randint(10, len(line) - 10)
            deliver(arrival + 1, rng.choice((line[:cut], line.replace('":', '" ', 1), line + "}")), MALFORMED_JSON)
        _maybe_inject_junk(rng, event, arrival, dirt, deliver)

    files = {path: "".join(f"{line}\n" for _, line in sorted(rows, key=lambda r: r[0]))
             for path, rows in arrivals.items()}
    _truncate_some(rng, files, bad, dirt)
    return files, bad


def _maybe_inject_junk(rng, event: Event, arrival: int, dirt: Dirt, deliver) -> None:
    """Extra events the pipeline must reject; none of them is part of the clean world."""
    def junk(**changes) -> dict:
        document = event_document(event, format_ts(event.ts_ms, 0), False)
        document["event_id"] = f"{rng.getrandbits(128):032x}"
        document.update(changes)
        return document

    if rng.random() < dirt.unknown_type:
        deliver(arrival + 2, to_line(junk(event_type=rng.choice(catalog.UNKNOWN_EVENT_TYPES))), UNKNOWN_EVENT_TYPE)
    if rng.random() < dirt.future:  # a device clock days ahead
        skewed = arrival + rng.randint(2, 30) * DAY_MS
        deliver(arrival + 3, to_line(junk(event_ts=format_ts(skewed, 0))), FUTURE_TIMESTAMP)
    if rng.random() < dirt.invalid_timestamp:
        value = rng.choice(("1970-01-01T00:00:00.000Z", "not a time", "2024-13-45T25:61:00Z", -1))
        deliver(arrival + 4, to_line(junk(event_ts=value)), INVALID_TIMESTAMP)
    if rng.random() < dirt.missing_field:
        document = junk()
        del document[rng.choice(("event_id", "event_type", "event_ts", "anonymous_id"))]
        deliver(arrival + 5, to_line(document), MISSING_FIELD)


def _truncate_some(rng, files: dict[str, str], bad: list[BadRecord], dirt: Dirt) -> None:
    """Cut some files inside a line (a transfer that died); the collector redelivers the
    whole file an hour later, so no clean event is lost, only duplicated."""
    for path in sorted(files):
        text = files[path]
        if text.count("\n") < 3 or rng.random() >= dirt.truncated_file:
            continue
        ends = [i for i, ch in enumerate(text) if ch == "\n"]
        line_end = ends[rng.randint(len(ends) * 2 // 3, len(ends) - 1)]
        line_start = text.rfind("\n", 0, line_end) + 1
        cut = rng.randint(line_start + 1, line_end - 2)
        files[path] = text[:cut]

        stamp = path.rsplit("_", 1)[1][:-len(".jsonl")]
        next_hour = dt.datetime.strptime(stamp, "%Y-%m-%dT%H") + dt.timedelta(hours=1)
        redelivery = hour_file(int(next_hour.replace(tzinfo=dt.timezone.utc).timestamp() * 1000), "_redelivered")
        files[redelivery] = text

        before = [b for b in bad if b.file == path]
        kept = collections.Counter(text[:line_start].splitlines())
        bad[:] = [b for b in bad if b.file != path]
        for record in before:
            bad.append(BadRecord("events", redelivery, record.raw, record.reason))
            if kept[record.raw] > 0:  # still in the part that arrived
                kept[record.raw] -= 1
                bad.append(record)
        bad.append(BadRecord("events", path, text[line_start:cut], MALFORMED_JSON))
