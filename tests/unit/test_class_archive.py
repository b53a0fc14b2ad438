"""jobs.common.class_archive: the driver's JVM options with and without the class archive."""
from jobs.common.class_archive import build, driver_java_options, stamp


def built(path, size: int = 8):
    path.write_bytes(b"\0" * size)
    stamp(path).write_text(str(size))
    return path


def test_without_an_archive_the_configured_options_are_kept_as_they_are(tmp_path):
    missing = tmp_path / "driver-classes.jsa"
    assert driver_java_options(None, missing) is None
    assert driver_java_options("-XX:+UseParallelGC", missing) == "-XX:+UseParallelGC"


def test_an_archive_is_mapped_after_the_configured_options(tmp_path):
    archive = built(tmp_path / "driver-classes.jsa")
    assert driver_java_options(None, archive) == f"-XX:SharedArchiveFile={archive}"
    assert driver_java_options("-XX:+UseParallelGC", archive) == f"-XX:+UseParallelGC -XX:SharedArchiveFile={archive}"


def test_an_archive_cut_short_or_never_finished_is_not_mapped(tmp_path):
    # a JVM that maps a cut archive dies of SIGBUS before it can check it
    archive = built(tmp_path / "driver-classes.jsa", size=8)
    archive.write_bytes(b"\0" * 5)
    assert driver_java_options("-XX:+UseParallelGC", archive) == "-XX:+UseParallelGC"
    stamp(archive).unlink()  # the build did not get as far as checking it
    assert driver_java_options(None, archive) is None


def test_options_that_set_class_data_sharing_themselves_get_no_archive(tmp_path):
    archive = built(tmp_path / "driver-classes.jsa")
    for own in ("-Xshare:off", "-XX:SharedArchiveFile=/elsewhere.jsa", "-XX:ArchiveClassesAtExit=/tmp/new.jsa"):
        assert driver_java_options(f"-XX:+UseParallelGC {own}", archive) == f"-XX:+UseParallelGC {own}"


def test_a_build_that_fails_leaves_an_empty_archive_that_no_driver_maps(tmp_path, monkeypatch, capsys):
    # the training driver cannot start: the JDK it is pointed at is not there
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    archive = tmp_path / "driver-classes.jsa"
    build(archive)
    assert archive.stat().st_size == 0 and not stamp(archive).exists()  # make does not retry it on every run
    assert driver_java_options("-XX:+UseParallelGC", archive) == "-XX:+UseParallelGC"
    assert f"warning: building {archive} failed, so drivers start without it" in capsys.readouterr().err
