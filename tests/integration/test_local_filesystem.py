"""file: paths go through the project's NioLocalFileSystem (jvm/src) in local mode: it sets
permission bits and answers link status as Hadoop's own local file system does, without
starting a `chmod` or `readlink` process per file."""
import os
import stat

import pytest
from py4j.protocol import Py4JJavaError

NIO_FS = "io.github.lakehouse.hadoop.NioLocalFileSystem"


@pytest.fixture
def hadoop(spark):
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    fs = jvm.org.apache.hadoop.fs.FileSystem.get(jvm.java.net.URI("file:///"), conf)
    return jvm, fs, conf, jvm.org.apache.hadoop.fs.FileContext.getLocalFSFileContext(conf)


def hpath(jvm, path) -> object:
    return jvm.org.apache.hadoop.fs.Path(f"file://{path}")


def test_both_hadoop_file_apis_use_the_nio_local_file_system(spark, hadoop):
    jvm, fs, _, context = hadoop
    assert fs.getRawFileSystem().getClass().getName() == "io.github.lakehouse.hadoop.NioRawLocalFileSystem"
    assert fs.getClass().getName() == NIO_FS
    assert context.getDefaultFileSystem().getClass().getName() == "io.github.lakehouse.hadoop.NioLocalFs"


def test_created_files_and_directories_get_the_permission_asked_for(hadoop, tmp_path):
    jvm, fs, _, _ = hadoop
    permission = jvm.org.apache.hadoop.fs.permission.FsPermission
    directory = tmp_path / "made"
    assert fs.mkdirs(hpath(jvm, directory), permission(int("750", 8)))
    out = fs.create(hpath(jvm, directory / "part.parquet"), permission(int("640", 8)), False, 4096, 1, 1 << 20, None)
    out.write(b"x")
    out.close()
    fs.setPermission(hpath(jvm, directory / "part.parquet"), permission(int("604", 8)))

    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o750
    assert stat.S_IMODE(os.stat(directory / "part.parquet").st_mode) == 0o604
    assert (directory / "part.parquet").read_bytes() == b"x"
    assert (directory / ".part.parquet.crc").exists()  # still the checksummed file system


def link_status(jvm, context, path):
    try:
        status = context.getFileLinkStatus(jvm.org.apache.hadoop.fs.Path(path))
    except Py4JJavaError as error:
        return error.java_exception.getClass().getSimpleName()
    return status.isFile(), status.isSymlink(), status.getLen(), status.getPath().toUri().getPath()


def test_link_status_answers_as_hadoops_own_local_file_system(spark, hadoop, tmp_path):
    jvm, _, conf, nio = hadoop
    stock_conf = jvm.org.apache.hadoop.conf.Configuration(conf)
    stock_conf.set("fs.AbstractFileSystem.file.impl", "org.apache.hadoop.fs.local.LocalFs")
    stock = jvm.org.apache.hadoop.fs.FileContext.getLocalFSFileContext(stock_conf)
    assert stock.getDefaultFileSystem().getClass().getName() == "org.apache.hadoop.fs.local.LocalFs"
    (tmp_path / "target.json").write_text("{}")
    os.symlink(tmp_path / "target.json", tmp_path / "link.json")

    answers = {}
    for name in ("target.json", "link.json", "missing.json"):
        for path in (f"file://{tmp_path / name}", str(tmp_path / name)):  # as Delta passes them, and bare
            answers[path] = link_status(jvm, nio, path)
            assert answers[path] == link_status(jvm, stock, path), path
    assert answers[str(tmp_path / "target.json")] == (True, False, 2, str(tmp_path / "target.json"))
    assert answers[str(tmp_path / "link.json")][1] is True  # a bare path to a link is seen as one
    assert answers[str(tmp_path / "missing.json")] == "FileNotFoundException"


def test_a_rename_through_file_context_never_overwrites(spark, hadoop, tmp_path):
    """The put-if-absent rename Delta's HDFSLogStore commits with: a second writer of the same
    version must fail, not replace the first one's commit."""
    jvm, _, _, context = hadoop
    none = jvm.org.apache.hadoop.fs.Options.Rename.NONE
    renames = spark.sparkContext._gateway.new_array(jvm.org.apache.hadoop.fs.Options.Rename, 1)
    renames[0] = none
    (tmp_path / "first.tmp").write_text("first")
    (tmp_path / "second.tmp").write_text("second")
    context.rename(hpath(jvm, tmp_path / "first.tmp"), hpath(jvm, tmp_path / "00001.json"), renames)
    with pytest.raises(Py4JJavaError, match="FileAlreadyExistsException"):
        context.rename(hpath(jvm, tmp_path / "second.tmp"), hpath(jvm, tmp_path / "00001.json"), renames)
    assert (tmp_path / "00001.json").read_text() == "first"
    assert not (tmp_path / "first.tmp").exists()
