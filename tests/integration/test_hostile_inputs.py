"""Empty files, a binary file, a 10 MB line and a resent day: each gives a clear outcome, none loses the batch."""
import collections
import logging
import os
import random
from pathlib import Path

from pyspark.sql import functions as F

import jobs.silver_events
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


def test_events_over_several_batches_are_deduped_across_them_and_hold_one_batch_of_cached_ids(
        spark, tmp_path, caplog, monkeypatch):
    cfg = test_config(tmp_path, "ingest.max_files_per_batch=1", "silver.max_files_per_batch=1")
    folder = Path(cfg.paths.landing) / "events" / "2024-03-01"
    folder.mkdir(parents=True)
    line = {n: GOOD.replace("ok1", f"ok{n}") for n in range(4)}
    resent = line[1].replace('"anonymous_id":"a"', '"anonymous_id":"resent"')
    for n, lines in enumerate([[line[0], line[1], line[1]], [resent, line[2]], [line[3], line[3]]]):
        landed = folder / f"events_2024-03-01T0{5 + n}.jsonl"  # delivered at or after the events' 05:00
        landed.write_text("\n".join(lines) + "\n")
        os.utime(landed, (1_700_000_000 + n, 1_700_000_000 + n))  # ingested in this order
    cached_after_dedupe = []

    def dedupe(*args):  # how many cached datasets the JVM holds once a batch's dedupe is done
        deduped = original(*args)
        cached_after_dedupe.append(cached_datasets(spark))
        return deduped

    original = jobs.silver_events.dedupe
    monkeypatch.setattr(jobs.silver_events, "dedupe", dedupe)
    caplog.set_level(logging.INFO, logger="jobs")
    cached_before = cached_datasets(spark)

    run_jobs(spark, cfg, "bronze_events", "silver_events")

    batches = [r.getMessage() for r in caplog.records if r.getMessage().startswith("silver.events batch")]
    assert len(batches) == 3, batches  # one bronze file per batch
    repeats = [r.getMessage() for r in caplog.records if "event ids repeat in this batch" in r.getMessage()]
    assert [m.split(" event ids")[0] for m in repeats] == ["silver.events: 1", "silver.events: 0", "silver.events: 1"]
    kept = read_table(spark, cfg, EVENTS).select("event_id", "anonymous_id").collect()
    assert sorted(tuple(r) for r in kept) == [(f"ok{n}", "a") for n in range(4)]  # the earlier batch's row stays
    # each batch holds its parsed lines and its own repeated ids, not every earlier batch's too
    assert len(cached_after_dedupe) == 3 and len(set(cached_after_dedupe)) == 1, cached_after_dedupe
    assert cached_datasets(spark) == cached_before, names_of_cached(spark)  # all released at the end


def names_of_cached(spark) -> list[str]:
    """The names of the datasets the JVM holds cached, but Delta's own caches of table states."""
    held = spark.sparkContext._jsc.getPersistentRDDs()  # a java.util.Map of id to JavaRDD
    names = [str(held.get(key).name()) for key in held.keySet()]
    return [name for name in names if not name.startswith("Delta Table State")]


def cached_datasets(spark) -> int:
    return len(names_of_cached(spark))
