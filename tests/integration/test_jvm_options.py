"""The JVM options every environment gets (conf/base.yaml: spark.driver.defaultJavaOptions)."""


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
