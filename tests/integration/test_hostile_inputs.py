"""Empty files, a binary file, a 10 MB line and a resent day: each gives a clear outcome, none loses the batch."""
import collections
import logging
import os
import random
from pathlib import Path

from pyspark.sql import functions as F

from jobs.common.io import read_table
from schemas.bronze import EVENTS_RAW
from schemas.events import EVENTS
from schemas.ops import JOB_RUNS, QUARANTINE
from tests.conftest import test_config
from tests.integration.world_helpers import run_jobs

GOOD = ('{"event_id":"ok1","event_type":"page_view","event_ts":"2024-03-01T05:00:00.000Z","anonymous_id":"a",'
        '"context":{},"properties":{}}')


def test_empty_binary_and_huge_inputs_are_quarantined_and_good_lines_kept(spark, cfg):
    folder = Path(cfg.paths.landing) / "events" / "2024-03-01"
    folder.mkdir(parents=True)
    for n in range(3):
        (folder / f"events_2024-03-01T0{n}.jsonl").write_bytes(b"")
    binary = bytes(random.Random(1).randrange(256) for _ in range(4096)).replace(b"\n", b"\x00")
    (folder / "events_2024-03-01T05.jsonl").write_bytes(binary + b"\n" + GOOD.encode() + b"\n")
    huge = '{"event_id":"big","blob":"' + "x" * (10 * 1024 * 1024)  # 10 MB, never closed
    (folder / "events_2024-03-01T06.jsonl").write_text(huge + "\n" + GOOD.replace("ok1", "ok2") + "\n")

    run_jobs(spark, cfg, "bronze_events", "silver_events")

    assert read_table(spark, cfg, EVENTS_RAW).count() == 4  # empty files add no rows, and fail nothing
    assert sorted(r[0] for r in read_table(spark, cfg, EVENTS).select("event_id").collect()) == ["ok1", "ok2"]
    quarantine = read_table(spark, cfg, QUARANTINE)
    reasons = collections.Counter(r["reason"] for r in quarantine.collect())
    assert reasons == {"malformed_json": 2}
    assert quarantine.where(F.length("raw") > 10 * 1024 * 1024).count() == 1  # the raw text is kept whole
    statuses = [r["status"] for r in read_table(spark, cfg, JOB_RUNS).collect()]
    assert statuses == ["succeeded", "succeeded"]
    assert os.path.getsize(folder / "events_2024-03-01T06.jsonl") > 10 * 1024 * 1024


def test_a_source_resending_its_files_under_new_names_still_gives_one_row_per_event(spark, tmp_path, caplog):
    # every id repeats: more than the broadcast of repeated ids may hold, so every row is ranked
    cfg = test_config(tmp_path, "silver.dedupe_broadcast_max_ids=2")
    folder = Path(cfg.paths.landing) / "events" / "2024-03-01"
    folder.mkdir(parents=True)
    lines = [GOOD.replace("ok1", f"ok{n}") for n in range(5)]
    (folder / "events_2024-03-01T05.jsonl").write_text("\n".join(lines) + "\n")
    resent = [line.replace('"anonymous_id":"a"', '"anonymous_id":"resent"') for line in lines]  # to tell them apart
    (folder / "events_2024-03-01T05_resent.jsonl").write_text("\n".join(resent) + "\n")
    caplog.set_level(logging.WARNING, logger="jobs.silver_events")

    run_jobs(spark, cfg, "bronze_events", "silver_events")

    assert any("5 event ids repeat in this batch" in r.getMessage() for r in caplog.records)
    kept = read_table(spark, cfg, EVENTS).select("event_id", "anonymous_id").collect()
    assert sorted(tuple(r) for r in kept) == [(f"ok{n}", "a") for n in range(5)]  # the first file name wins the tie
