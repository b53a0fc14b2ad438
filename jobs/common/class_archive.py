"""The driver JVM's classes, pre-parsed in a class-data-sharing archive (JDK AppCDS).

A cold driver spends seconds loading and verifying the same ~24,000 classes (Spark's, Scala's,
Hadoop's, Delta's, the JDK's) on every start: a session and its first Delta write and read took
15.5 s in a fresh process, 11.1 s with this archive (docs/PERFORMANCE.md). `make setup` builds
the archive once (`python -m jobs.common.class_archive`): a driver runs a small Delta workload
with -XX:ArchiveClassesAtExit, and its JVM writes the classes it loaded as it exits. Every driver
that build_session starts, and every client-mode driver that spark-submit.sh starts, then maps
the archive with -XX:SharedArchiveFile.

The archive belongs to one JDK build and one class path (this checkout's .venv and .jars):
make rebuilds it when the JDK, the venv or the jars change, and a JVM of another build or
class path ignores it and starts as it would without it, only slower (a checkout that was
moved: `rm .jars/driver-classes.jsa; make setup`). A cut archive would crash the JVM, so
build() checks that a JVM can map it, then records its size; an archive of another size is not
used. An environment that sets its own CDS options in spark.driver.extraJavaOptions keeps
them, and gets no archive from here.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from jobs.common.config import PROJECT_ROOT

ARCHIVE = PROJECT_ROOT / ".jars" / "driver-classes.jsa"
CDS_OPTIONS = ("-XX:SharedArchiveFile", "-XX:ArchiveClassesAtExit", "-Xshare")


def stamp(archive: Path) -> Path:
    """Where build() records the archive's size once the archive is known to be whole."""
    return archive.with_name(archive.name + ".bytes")


def whole(archive: Path) -> bool:
    """Whether the archive is there with the size it was built with: the JVM checks what is in
    an archive, but a cut one crashes it (SIGBUS) before any check."""
    try:
        return archive.stat().st_size == int(stamp(archive).read_text())
    except (OSError, ValueError):
        return False


def driver_java_options(configured: str | None, archive: Path = ARCHIVE) -> str | None:
    """The driver's extraJavaOptions: those configured, then the archive's option when the
    archive is whole and they set no CDS option of their own."""
    if any(option in (configured or "") for option in CDS_OPTIONS) or not whole(archive):
        return configured
    return " ".join(filter(None, [configured, f"-XX:SharedArchiveFile={archive}"]))


def workload(spark, root: Path) -> None:
    """What a night's jobs make the driver load: Delta writes, a MERGE, a change-feed read,
    a file stream, JSON and CSV parsing, joins, windows and aggregates."""
    from delta.tables import DeltaTable
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    table, landing = str(root / "table"), root / "landing"
    rows = spark.range(2000).select(F.col("id"), (F.col("id") % 7).alias("day"),
                                    F.to_json(F.struct(F.col("id").alias("n"))).alias("raw"))
    (rows.write.format("delta").partitionBy("day").option("delta.enableChangeDataFeed", "true").save(table))
    changes = rows.where("id < 100").withColumn("raw", F.lit('{"n": 0}'))
    (DeltaTable.forPath(spark, table).alias("t").merge(changes.alias("s"), "t.id = s.id")
     .whenMatchedUpdateAll().whenNotMatchedInsertAll().execute())
    spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", 1).load(table).count()
    ranked = (spark.read.format("delta").load(table)
              .withColumn("n", F.from_json("raw", "n BIGINT")["n"])
              .withColumn("rank", F.row_number().over(Window.partitionBy("day").orderBy(F.col("id").desc()))))
    ranked.join(ranked.groupBy("day").agg(F.max("n").alias("top")), "day").where("rank = 1").collect()
    landing.mkdir()
    (landing / "a.csv").write_text("id,amount\n1,2.50\n2,x\n")
    spark.read.option("header", "true").schema("id INT, amount DECIMAL(12,2)").csv(str(landing)).collect()
    query = (spark.readStream.format("text").load(str(landing)).writeStream
             .foreachBatch(lambda batch, _: batch.write.format("delta").mode("append").save(str(root / "stream")))
             .option("checkpointLocation", str(root / "checkpoint")).trigger(availableNow=True).start())
    query.awaitTermination()


def train(out: Path) -> None:
    """In this process: a driver that writes its loaded classes to `out` when its JVM exits."""
    from jobs.common.config import load_config, paths_under
    from jobs.common.session import build_session

    with tempfile.TemporaryDirectory(prefix="class-archive-") as scratch:
        root = Path(scratch)
        cfg = load_config("test", paths_under(root) + [
            f"spark.settings.spark.driver.extraJavaOptions=-XX:ArchiveClassesAtExit={out}"])
        spark = build_session("class-archive", cfg)
        jvm = spark.sparkContext._gateway.proc  # the driver JVM, which pyspark started
        try:
            workload(spark, root)
        finally:
            spark.stop()
        jvm.stdin.close()  # the gateway exits at the end of its input, writing the archive first
        jvm.wait(timeout=600)


def build(archive: Path = ARCHIVE) -> None:
    """Trains a driver in a child process (its JVM writes the archive as it exits) and puts
    the archive in place only when a JVM can map it. When that fails, drivers start without it,
    only slower: the failure is reported, and an empty file with no recorded size takes the
    archive's place, so that make does not try again on every run until it is removed."""
    partial = archive.with_name(archive.name + ".partial")
    for path in (stamp(archive), archive, partial):  # a dynamic archive cannot be dumped on top of another one
        path.unlink(missing_ok=True)
    env = {**os.environ, "LAKEHOUSE_PSEUDONYM_KEY": os.environ.get("LAKEHOUSE_PSEUDONYM_KEY", "class-archive")}
    try:
        done = subprocess.run([sys.executable, "-m", "jobs.common.class_archive", "--train", str(partial)],
                              cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode == 0 and partial.is_file():  # a JVM that maps a broken archive dies at once
            done = subprocess.run([java(), f"-XX:SharedArchiveFile={partial}", "-version"], capture_output=True,
                                  text=True, timeout=120)
        failure = None if done.returncode == 0 and partial.is_file() else (
            f"exit {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    except subprocess.TimeoutExpired as timeout:
        failure = f"no answer in {timeout.timeout:.0f} s"
    if failure:
        partial.unlink(missing_ok=True)
        archive.touch()
        print(f"warning: building {archive} failed, so drivers start without it, only slower; remove it and "
              f"run make setup to try again ({failure})", file=sys.stderr)
        return
    partial.rename(archive)
    stamp(archive).write_text(str(archive.stat().st_size))
    print(f"{archive}: {archive.stat().st_size / 2**20:.0f} MiB of pre-parsed driver classes")


def java() -> str:
    """The java that spark-submit starts: $JAVA_HOME's, else the one on the PATH."""
    home = os.environ.get("JAVA_HOME")
    return str(Path(home) / "bin" / "java") if home else "java"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m jobs.common.class_archive",
                                     description="Build the driver's class-data-sharing archive, "
                                                 f"{ARCHIVE.relative_to(PROJECT_ROOT)} (make setup does).")
    parser.add_argument("--options", metavar="JAVA_OPTIONS",
                        help="print the driver's extraJavaOptions: these, and the archive's option when it "
                             "applies; spark-submit.sh asks with --options=\"$OPTIONS\"")
    parser.add_argument("--train", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.options is not None:
        print(driver_java_options(args.options or None) or "")
    elif args.train:
        train(args.train)
    else:
        build()


if __name__ == "__main__":
    main()
