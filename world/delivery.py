"""Deliver a generated world day by day: copy what the source systems send on one day from a
complete landing folder into another, as a daily schedule would see it arrive; or hold the
later days of a landing folder back and let them arrive one at a time."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Callable, Iterator


def delivered(landing: Path) -> Iterator[tuple[dt.date, Path]]:
    """Each day's delivery in a landing folder, as (day, folder or file): the events, access
    logs and OLTP dumps of a day are folders named by it, the ad spend is one CSV a day."""
    for folder in (*landing.glob("events/*"), *landing.glob("access_logs/*"), *landing.glob("oltp/*/*")):
        yield dt.date.fromisoformat(folder.name), folder
    for spend in landing.glob("marketing/ad_spend_*.csv"):
        yield dt.date.fromisoformat(spend.stem.removeprefix("ad_spend_")), spend


def deliver(source: Path, landing: Path, day: dt.date) -> None:
    """Copy what the source systems deliver on one day into the landing folder."""
    for when, path in delivered(source):
        if when != day:
            continue
        target = landing / path.relative_to(source)
        if path.is_dir():
            shutil.copytree(path, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def move_days(source: Path, target: Path, which: Callable[[dt.date], bool]) -> int:
    """Move the deliveries of the days `which` picks from one landing folder to another (a
    rename: instant, and no second copy on disk). Returns how many folders and files moved."""
    picked = [path for day, path in delivered(source) if which(day)]  # listed before anything moves
    for path in picked:
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        path.rename(destination)
    return len(picked)


def delivery_days(source: Path) -> list[dt.date]:
    """Every day something is delivered on: the world's days, and the later days that bring
    only late events."""
    return sorted({day for day, path in delivered(source) if path.is_dir()})
