"""Generate a world into a landing directory and its truth into a truth directory.

Landing gets exactly what a company's collectors would deliver (see DESIGN.md); truth
gets the clean world's metrics per business time zone, the clean event ids, the user
history, every injected bad record with its reason, and world.json (parameters, file
checksums, counts). The same parameters always give byte-identical files.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import logging
import shutil
from pathlib import Path

from world import truth
from world.model import Params, World
from world.render_access_logs import render_access_logs, web_requests
from world.render_dumps import render_ad_spend, render_dumps
from world.render_events import Dirt, render_events
from world.simulate import simulate

log = logging.getLogger(__name__)

TIME_ZONES = ("UTC", "Asia/Seoul")
LANDING_SOURCES = ("events", "access_logs", "oltp", "marketing")
FORMAT_VERSION = 1


def manifest_params(params: Params, formats: tuple[str, ...]) -> dict:
    values = dataclasses.asdict(params)
    values["start_date"] = params.start_date.isoformat()
    for name, default in (("first_user_id", 1), ("catalog_seed", None)):  # a whole world's manifest is unchanged
        if values[name] == default:
            del values[name]
    return {"format_version": FORMAT_VERSION, "params": values, "dump_formats": list(formats)}


def existing_manifest(truth_dir: Path) -> dict | None:
    path = truth_dir / "world.json"
    return json.loads(path.read_text()) if path.is_file() else None


def generate(params: Params, landing: Path, truth_dir: Path, formats: tuple[str, ...] = ("csv",),
             force: bool = False) -> dict:
    """Write the world; returns its manifest. An identical world already there is kept."""
    wanted = manifest_params(params, formats)
    current = existing_manifest(truth_dir)
    if current is not None and {k: current.get(k) for k in wanted} == wanted and not force:
        log.info("world already generated in %s (same parameters); nothing to do", landing)
        return current
    if current is not None or any((landing / s).exists() for s in LANDING_SOURCES):
        if not force:
            raise FileExistsError(f"{landing} already holds a different world; pass --force to replace it "
                                  "(and rebuild the warehouse: its bronze tables came from the old files)")
        for source in LANDING_SOURCES:
            shutil.rmtree(landing / source, ignore_errors=True)
        shutil.rmtree(truth_dir, ignore_errors=True)

    world = simulate(params)
    dirt = Dirt.scaled(params.dirt_rate)
    event_files, bad_events = render_events(params, world.events, dirt)
    requests = web_requests(params, world.events)
    log_files, bad_lines = render_access_logs(params, requests, params.dirt_rate)
    dump_files, bad_rows = render_dumps(world, formats)
    spend_files = render_ad_spend(world)

    files = {**event_files, **log_files, **dump_files, **spend_files}
    checksums = {path: _write(landing / path, content) for path, content in sorted(files.items())}
    bad = bad_events + bad_lines + bad_rows
    _write_truth(world, requests, bad, truth_dir)
    manifest = {
        **wanted,
        "counts": {"users": len(world.users), "products": len(world.products), "orders": len(world.orders),
                   "clean_events": len(world.events), "web_requests": len(requests),
                   "bad_records": len(bad), "files": len(files)},
        "files": checksums,
    }
    _write(truth_dir / "world.json", json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def _write(path: Path, content: str | bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return hashlib.sha256(data).hexdigest()


def _write_truth(world: World, requests, bad, truth_dir: Path) -> None:
    all_sessions = truth.sessions(world)
    for zone in TIME_ZONES:
        folder = truth_dir / zone.replace("/", "_")
        tables = {
            "daily_kpis": truth.daily_kpis(world, zone, all_sessions),
            "funnel_daily": truth.funnel_daily(world, zone, all_sessions),
            "retention_cohorts": truth.retention_cohorts(world, zone, all_sessions),
            "marketing_daily": truth.marketing_daily(world, zone, all_sessions),
            "experiment_results": truth.experiment_results(world, zone),
            "web_traffic_daily": truth.web_traffic_daily(world, zone, requests),
        }
        for name, rows in tables.items():
            _write(folder / f"{name}.csv", _csv(rows))
    events = [{"event_id": e.event_id, "event_type": e.event_type, "event_ts_ms": e.ts_ms, "user_id": e.user_id,
               "anonymous_id": e.anonymous_id, "session_id": e.session_id} for e in world.events]
    _write(truth_dir / "events.csv", _csv(events))
    _write(truth_dir / "users_history.csv", _csv(_user_history(world)))
    _write(truth_dir / "bad_records.jsonl",
           "".join(json.dumps(dataclasses.asdict(b), ensure_ascii=False) + "\n" for b in bad))


def _user_history(world: World) -> list[dict]:
    rows = []
    for user in world.users:
        bounds = [v.valid_from_ms for v in user.versions[1:]] + [user.deleted_ms]
        for version, valid_to in zip(user.versions, bounds):
            rows.append({"user_id": user.user_id, "valid_from_ms": version.valid_from_ms, "valid_to_ms": valid_to,
                         "email": version.email, "full_name": version.full_name, "address": version.address,
                         "country": version.country, "marketing_consent": version.marketing_consent,
                         "is_deleted": False})
        if user.deleted_ms is not None:
            rows.append({"user_id": user.user_id, "valid_from_ms": user.deleted_ms, "valid_to_ms": None,
                         "email": None, "full_name": None, "address": None, "country": None,
                         "marketing_consent": None, "is_deleted": True})
    return rows


def _csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(rows[0].keys())
    for row in rows:
        writer.writerow([_cell(v) for v in row.values()])
    return buffer.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return json.dumps(value)
    return str(value)
