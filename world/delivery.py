"""Deliver a generated world day by day: copy what the source systems send on one day from a
complete landing folder into another, as a daily schedule would see it arrive."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path


def deliver(source: Path, landing: Path, day: dt.date) -> None:
    """Copy what the source systems deliver on one day into the landing folder."""
    name = day.isoformat()
    for folder in (*source.glob(f"events/{name}"), *source.glob(f"access_logs/{name}"), *source.glob(f"oltp/*/{name}")):
        shutil.copytree(folder, landing / folder.relative_to(source))
    for spend in source.glob(f"marketing/ad_spend_{name}.csv"):
        (landing / "marketing").mkdir(parents=True, exist_ok=True)
        shutil.copy2(spend, landing / "marketing")


def delivery_days(source: Path) -> list[dt.date]:
    """Every day something is delivered on: the world's days, and the later days that bring
    only late events."""
    folders = [*source.glob("events/*"), *source.glob("access_logs/*"), *source.glob("oltp/*/*")]
    return sorted({dt.date.fromisoformat(p.name) for p in folders})
