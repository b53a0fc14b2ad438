"""The code version recorded with every run: the git commit, or the one stamped at packaging."""
from __future__ import annotations

import functools
import subprocess
import zipfile
from pathlib import Path

from jobs.common.config import PROJECT_ROOT


@functools.cache
def code_version() -> str:
    for parent in Path(__file__).resolve().parents:
        if zipfile.is_zipfile(parent):  # shipped by spark-submit.sh, which stamps VERSION
            with zipfile.ZipFile(parent) as archive:
                if "VERSION" in archive.namelist():
                    return archive.read("VERSION").decode().strip()
            return "unknown"
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=PROJECT_ROOT,
                             capture_output=True, text=True, timeout=10, check=True)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"
