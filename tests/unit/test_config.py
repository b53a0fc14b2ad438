import datetime as dt

import pytest

from jobs.common import session
from jobs.common.config import PROJECT_ROOT, ConfigError, _print_values, load_config, resolve_path


def test_load_config_merges_base_env_and_overrides():
    cfg = load_config("test", ["spark.shuffle_partitions=3", "business.time_zone=Asia/Seoul"])
    assert cfg.env == "test"
    assert cfg.spark.master == "local[2]"            # from test.yaml
    assert cfg.spark.app_name_prefix == "lakehouse"  # from base.yaml
    assert cfg.spark.shuffle_partitions == 3         # from --conf
    assert cfg.business.time_zone == "Asia/Seoul"
    assert cfg.world.start_date == dt.date(2024, 3, 1)


def test_load_config_keeps_dots_inside_spark_setting_names():
    cfg = load_config("test", ["spark.settings.spark.sql.ansi.enabled=true"])
    assert cfg.spark.settings["spark.sql.ansi.enabled"] == "True"
    assert cfg.spark.settings["spark.default.parallelism"] == "2"


def test_load_config_unknown_override_key_names_key_and_source():
    with pytest.raises(ConfigError, match=r"unknown configuration key spark\.mastr in --conf spark\.mastr=x"):
        load_config("test", ["spark.mastr=x"])


def test_load_config_unknown_file_key_names_key_and_file(tmp_path, monkeypatch):
    (tmp_path / "base.yaml").write_text((PROJECT_ROOT / "conf" / "base.yaml").read_text())
    (tmp_path / "broken.yaml").write_text("paths:\n  warehose: /tmp/x\n")
    monkeypatch.setenv("LAKEHOUSE_CONF_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match=r"unknown configuration key paths\.warehose in conf/broken\.yaml"):
        load_config("broken")


@pytest.mark.parametrize("setting, message", [
    ("spark.shuffle_partitions=0", "spark.shuffle_partitions must be 1 or more, got 0"),
    ("ingest.max_files_per_batch=0", "ingest.max_files_per_batch must be 1 or more, got 0"),
    ("silver.max_files_per_batch=-3", "silver.max_files_per_batch must be 1 or more, got -3"),
    ("silver.dedupe_broadcast_max_ids=-1", "silver.dedupe_broadcast_max_ids must be 0 or more, got -1"),
    ("oltp.max_missing_share=1.5", "oltp.max_missing_share must be between 0 and 1, got 1.5"),
    ("oltp.parallel_writes=0", "oltp.parallel_writes must be 1 or more, got 0"),
    ("oltp.jdbc.fetch_size=-1", "oltp.jdbc.fetch_size must be 0 or more, got -1"),
    ("oltp.jdbc.partitions=0", "oltp.jdbc.partitions must be 1 or more, got 0"),
    ("world.days=0", "world.days must be 1 or more, got 0"),
    ("world.dirt_rate=-0.1", "world.dirt_rate must be between 0 and 1, got -0.1"),
    ("spark.shuffle_partitions=2.5", "spark.shuffle_partitions must be a whole number, got 2.5"),
    ("spark.shuffle_partitions=.inf", "spark.shuffle_partitions must be a finite number, got inf"),
    ("world.dirt_rate=.nan", "world.dirt_rate must be a finite number, got nan"),
])
def test_load_config_refuses_a_number_out_of_its_range_naming_the_key(setting, message):
    with pytest.raises(ConfigError, match=f"^configuration value {message}$".replace(".", r"\.")):
        load_config("test", [setting])


def test_load_config_takes_the_ends_of_a_range():
    cfg = load_config("test", ["oltp.max_missing_share=1", "silver.dedupe_broadcast_max_ids=0",
                               "ingest.max_files_per_batch=1", "spark.shuffle_partitions=4.0"])
    assert (cfg.oltp.max_missing_share, cfg.silver.dedupe_broadcast_max_ids, cfg.ingest.max_files_per_batch) == (1, 0, 1)
    assert cfg.spark.shuffle_partitions == 4 and isinstance(cfg.spark.shuffle_partitions, int)


def test_load_config_missing_required_value_names_key():
    with pytest.raises(ConfigError, match=r"missing required configuration value paths\.warehouse"):
        load_config("test", ["paths.warehouse="])


def test_load_config_refuses_a_warehouse_under_a_path_with_a_backtick():
    """Delta's table builder puts the location into SQL as delta.`<path>` unescaped: no table
    could be created there, so the configuration says so before any job starts."""
    with pytest.raises(ConfigError, match=r"paths\.warehouse '/tmp/a `b`/warehouse' contains a backtick"):
        load_config("test", ["paths.warehouse=/tmp/a `b`/warehouse"])
    assert load_config("test", ["paths.warehouse=/tmp/it's a \\ path"]).paths.warehouse == "/tmp/it's a \\ path"


def test_load_config_wrong_type_names_key():
    with pytest.raises(ConfigError, match=r"spark\.shuffle_partitions must be a number"):
        load_config("test", ["spark.shuffle_partitions=many"])


def test_load_config_unknown_env_lists_known_ones():
    with pytest.raises(ConfigError, match=r"unknown environment 'prod'.*known: bench, cluster, local, test"):
        load_config("prod")


def test_load_config_override_without_equals_is_an_error():
    with pytest.raises(ConfigError, match="is not key=value"):
        load_config("test", ["spark.master"])


def test_secret_reads_named_environment_variable(monkeypatch):
    cfg = load_config("test")
    monkeypatch.setenv(cfg.secrets.pseudonym_key_env, "s3cret")
    assert cfg.secret(cfg.secrets.pseudonym_key_env) == "s3cret"
    monkeypatch.delenv(cfg.secrets.pseudonym_key_env)
    with pytest.raises(ConfigError, match="LAKEHOUSE_PSEUDONYM_KEY is not set"):
        cfg.secret(cfg.secrets.pseudonym_key_env)


def test_resolve_path_keeps_uris_and_absolute_paths():
    assert resolve_path("s3a://bucket/wh") == "s3a://bucket/wh"
    assert resolve_path("/abs/wh") == "/abs/wh"
    assert resolve_path("data/wh").endswith("/data/wh")


def test_the_jars_include_the_local_file_system_built_from_jvm_src():
    assert str(session.LOCAL_FS_JAR) in session.pinned_jars()


def test_a_set_up_without_the_local_file_system_jar_is_told_to_run_make_setup(monkeypatch, tmp_path):
    monkeypatch.setattr(session, "LOCAL_FS_JAR", tmp_path / "lakehouse-hadoop.jar")
    with pytest.raises(session.SetupError, match=r"lakehouse-hadoop.jar is missing: run `make setup`"):
        session.pinned_jars()


def test_print_values_reads_a_spark_setting_by_its_dotted_name_and_an_absent_one_as_empty(capsys):
    # spark-submit.sh reads the driver's JVM options this way, before a JVM starts.
    assert _print_values(["--env", "bench", "spark.driver_memory", "spark.settings.spark.driver.defaultJavaOptions",
                          "spark.settings.spark.driver.extraJavaOptions", "spark.settings.spark.no.such.key"]) == 0
    assert capsys.readouterr().out.split("\n") == [
        "6g", "-Djdk.nio.maxCachedBufferSize=262144", "-XX:+UseParallelGC", "", ""]
