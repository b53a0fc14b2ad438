"""A copy of a warehouse (and its streaming checkpoints) as it was at an earlier moment.

Delta never changes a data file once written, and a table at version v is its log up to v:
so the copy hard-links every data file and copies only the logs, then drops from each log
the commits made at or after the moment (a table created after it is left out), and from
each streaming checkpoint the batches committed at or after it. The result is the warehouse
as it stood, version numbers included, so the ledgers' recorded versions still match.
"""
from __future__ import annotations

import errno
import json
import os
import re
import shutil
from pathlib import Path

COMMIT = re.compile(r"^(\d{20})\.json$")
VERSIONED = re.compile(r"^\.?(\d{20})(?:\.(\d{20}))?\.")   # NNN.json, NNN.checkpoint..., NNN.MMM.compacted.json
BATCH = re.compile(r"^\.?(\d+)(?:\.compact)?(?:\.crc)?$")   # a streaming log's batch files and their checksums


class RollbackError(Exception):
    """The copy cannot be taken back to the moment asked for."""


def copy_tree(source: Path, target: Path) -> None:
    """`source` at `target`: data files hard-linked (copied across file systems), everything
    under a `_delta_log` and every small metadata file copied, so that changing the copy
    never changes the source."""
    for folder, dirs, files in os.walk(source):
        here = Path(folder)
        there = target / here.relative_to(source)
        there.mkdir(parents=True, exist_ok=True)
        in_log = "_delta_log" in here.relative_to(source).parts
        for name in files:
            if in_log or not name.endswith(".parquet"):
                shutil.copy2(here / name, there / name)
            else:
                link(here / name, there / name)


def link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
            raise
        shutil.copy2(source, target)


def delta_tables(warehouse: Path) -> list[Path]:
    return sorted(log.parent for log in warehouse.rglob("_delta_log") if log.is_dir())


def commit_ms(log: Path, version: int) -> int:
    """When a commit was made (ms since the epoch): its in-commit timestamp, else the writer's clock."""
    with (log / f"{version:020d}.json").open(encoding="utf-8") as commit:
        for line in commit:
            if '"commitInfo"' in line:
                info = json.loads(line).get("commitInfo")
                if info is not None:
                    return int(info.get("inCommitTimestamp", info["timestamp"]))
    raise RollbackError(f"{log}/{version:020d}.json has no commitInfo: cannot tell when it was made")


def version_before(table: Path, moment_ms: int) -> int | None:
    """The newest version of `table` committed before `moment_ms`; None if the table did not exist yet."""
    log = table / "_delta_log"
    versions = sorted((int(m.group(1)) for m in map(COMMIT.match, os.listdir(log)) if m), reverse=True)
    for version in versions:
        if commit_ms(log, version) < moment_ms:
            return version
    if versions and versions[-1] > 0:  # older commits were cleaned from the log: their times are unknown
        raise RollbackError(f"{table}: every commit still in the log is at or after the moment, and the "
                            f"older ones were cleaned up: cannot tell which version stood then")
    return None


def truncate_log(table: Path, keep: int) -> int:
    """Drop every log file of a version after `keep`; how many commits were dropped."""
    log, dropped = table / "_delta_log", 0
    for path in [*log.iterdir(), *((log / "_staged_commits").iterdir() if (log / "_staged_commits").is_dir() else ())]:
        match = VERSIONED.match(path.name)
        newest = max(int(v) for v in match.groups() if v) if match else None
        if newest is not None and newest > keep:
            dropped += COMMIT.match(path.name) is not None
            path.unlink()
    last = log / "_last_checkpoint"
    if last.exists() and json.loads(last.read_text(encoding="utf-8"))["version"] > keep:
        last.unlink()  # Delta then lists the log for the newest checkpoint left
        (log / "._last_checkpoint.crc").unlink(missing_ok=True)
    return dropped


def roll_back_tables(warehouse: Path, moment_ms: int) -> dict[str, tuple[int | None, int]]:
    """Every Delta table under `warehouse` back to its version before `moment_ms`:
    {table path: (the version kept or None if removed, commits dropped)} for those that changed."""
    changed = {}
    for table in delta_tables(warehouse):
        keep = version_before(table, moment_ms)
        name = str(table.relative_to(warehouse))
        if keep is None:
            shutil.rmtree(table)
            changed[name] = (None, -1)
        else:
            dropped = truncate_log(table, keep)
            if dropped:
                changed[name] = (keep, dropped)
    return changed


def roll_back_streams(checkpoints: Path, moment_ms: int) -> dict[str, int | None]:
    """Every structured-streaming checkpoint under `checkpoints` back to its last batch
    committed before `moment_ms` (a batch planned but not committed after it goes too):
    {checkpoint: the batch kept, None if none was} for those that changed. Refused where a
    compacted file-source log would lose older batches."""
    changed = {}
    for commits in sorted(checkpoints.rglob("commits")):
        stream = commits.parent
        kept = [int(m.group(1)) for p in commits.iterdir()
                if (m := BATCH.match(p.name)) and not p.name.startswith(".") and p.stat().st_mtime * 1000 < moment_ms]
        keep = max(kept, default=None)
        if keep is None:
            shutil.rmtree(stream)
            changed[str(stream.relative_to(checkpoints))] = None
            continue
        logs = [stream / "offsets", commits, *sorted((stream / "sources").glob("*"))]
        if sum(drop_batches_after(log, keep) for log in logs if log.is_dir()):
            changed[str(stream.relative_to(checkpoints))] = keep
    return changed


def drop_batches_after(log: Path, keep: int) -> int:
    """Drop a streaming log's batches after `keep`; how many files went."""
    files = [(int(m.group(1)), p) for p in log.iterdir() if (m := BATCH.match(p.name))]
    compacted_later = [b for b, p in files if b > keep and ".compact" in p.name]
    if compacted_later and not (log / str(keep)).exists() and not (log / f"{keep}.compact").exists():
        raise RollbackError(f"{log}: batch {min(compacted_later)} compacted the batches before it and they were "
                            f"cleaned up, so batch {keep} cannot be restored")
    later = [path for batch, path in files if batch > keep]
    for path in later:
        path.unlink()
    return len(later)
