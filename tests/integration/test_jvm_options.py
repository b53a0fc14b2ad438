"""The JVM options every environment gets (conf/base.yaml: spark.driver.defaultJavaOptions),
and the class archive every driver that build_session starts maps (jobs/common/class_archive.py)."""
import re
import subprocess
from pathlib import Path

from jobs.common.class_archive import ARCHIVE


def direct_memory_used(jvm) -> int:
    pools = jvm.java.lang.management.ManagementFactory.getPlatformMXBeans(
        jvm.java.lang.Class.forName("java.lang.management.BufferPoolMXBean"))
    return next(pool.getMemoryUsed() for pool in pools if pool.getName() == "direct")


def test_a_large_file_channel_write_leaves_no_direct_buffer_behind(spark, tmp_path):
    # A heap buffer written to a file channel is copied through a temporary direct buffer of
    # its size, which the JDK keeps for the thread unless jdk.nio.maxCachedBufferSize is
    # smaller. Spark writes and reads cached blocks on disk that way.
    jvm = spark.sparkContext._jvm
    before = direct_memory_used(jvm)
    block = jvm.java.io.RandomAccessFile(str(tmp_path / "block"), "rw")
    block.getChannel().write(jvm.java.nio.ByteBuffer.allocate(32 << 20))
    block.close()

    assert (tmp_path / "block").stat().st_size == 32 << 20
    assert direct_memory_used(jvm) - before < 1 << 20


def test_the_driver_maps_the_class_archive_that_make_setup_built(spark):
    # A JVM that rejects an archive (another JDK build, another class path) starts without it
    # and says nothing, so the option alone proves little: the mapped size must include it.
    assert ARCHIVE.is_file(), f"{ARCHIVE} is missing: `make setup` builds it"
    jvm = spark.sparkContext._jvm
    diagnostics = jvm.java.lang.management.ManagementFactory.getPlatformMXBean(
        jvm.java.lang.Class.forName("com.sun.management.HotSpotDiagnosticMXBean"))
    assert diagnostics.getVMOption("SharedArchiveFile").getValue() == str(ARCHIVE)
    jcmd = Path(jvm.java.lang.System.getProperty("java.home")) / "bin" / "jcmd"
    info = subprocess.run([str(jcmd), str(jvm.java.lang.ProcessHandle.current().pid()), "VM.info"],
                          capture_output=True, text=True, check=True).stdout
    # "[start-end of the JDK's own archive-end of the one mapped on top of it)": the two ends
    # are equal when no archive is mapped on top
    mapped = re.search(r"CDS archive\(s\) mapped at: \[0x([0-9a-f]+)-0x([0-9a-f]+)-0x([0-9a-f]+)\)", info)
    assert mapped, f"the driver maps no class-data-sharing archive at all:\n{info[:2000]}"
    on_top = int(mapped.group(3), 16) - int(mapped.group(2), 16)
    assert on_top > ARCHIVE.stat().st_size // 2, f"{ARCHIVE} was not mapped ({on_top} bytes on top of the JDK's)"
