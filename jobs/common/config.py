"""Configuration: conf/base.yaml, then conf/<env>.yaml, then --conf key=value overrides.

The result is a frozen JobConfig built once in a job's main(). Every key is declared
by a dataclass below, so a typo is an error that names the key and the file it is in,
and a required value left empty is an error that names the key.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import types
import typing
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml



def _project_root() -> Path:
    """The checkout; relative paths in conf/ hang off it. When the code runs from the zip
    that spark-submit.sh ships, that is LAKEHOUSE_HOME (set by the script) or the cwd."""
    code_root = Path(__file__).resolve().parents[2]
    if zipfile.is_zipfile(code_root):
        return Path(os.environ.get("LAKEHOUSE_HOME") or os.getcwd())
    return code_root


PROJECT_ROOT = _project_root()


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the key and the file."""


def bounded(low: float, high: float | None = None) -> Any:
    """A required number that must lie between low and high (inclusive; no high: no upper
    bound), checked when the configuration loads, before any job starts."""
    return dataclasses.field(metadata={"bounds": (low, high)})


@dataclasses.dataclass(frozen=True)
class Paths:
    landing: str
    warehouse: str
    checkpoints: str
    event_log: str
    truth: str

    def __post_init__(self) -> None:
        warehouse = resolve_path(self.warehouse)
        if "`" in warehouse:  # DeltaTableBuilder.location() writes delta.`<path>` into SQL unescaped (4.4.0)
            raise ConfigError(f"paths.warehouse {warehouse!r} contains a backtick (`): Delta Lake cannot create "
                              "a table under such a path (its table builder puts the path into SQL unquoted); "
                              "choose a warehouse folder without one")


def paths_under(root) -> list[str]:
    """`paths.<name>=<root>/<name>` overrides for every path: a whole environment in one folder."""
    return [f"paths.{field.name}={root}/{field.name}" for field in dataclasses.fields(Paths)]


@dataclasses.dataclass(frozen=True)
class Business:
    time_zone: str


@dataclasses.dataclass(frozen=True)
class SparkSettings:
    master: str
    app_name_prefix: str
    shuffle_partitions: int = bounded(1)
    driver_memory: str
    event_log_enabled: bool
    ui_enabled: bool
    log_level: str
    settings: Mapping[str, str]


@dataclasses.dataclass(frozen=True)
class Secrets:
    pseudonym_key_env: str


@dataclasses.dataclass(frozen=True)
class Jdbc:
    url: str                  # jdbc:postgresql://host:5432/db or jdbc:mariadb://host:3306/db; "" = none
    user: str
    password_env: str         # the environment variable holding the password
    fetch_size: int = bounded(0)  # rows per round trip; 0 = the driver's default
    partitions: int = bounded(1)  # parallel reads per table over its partition_column's range


@dataclasses.dataclass(frozen=True)
class Ingest:
    max_files_per_batch: int = bounded(1)  # landing files per micro-batch of a bronze file ingestion


@dataclasses.dataclass(frozen=True)
class Silver:
    dedupe_broadcast_max_ids: int = bounded(0)  # silver_events broadcasts a batch's repeated ids up to this many
    max_files_per_batch: int = bounded(1)  # bronze data files per micro-batch of a lines -> silver job


@dataclasses.dataclass(frozen=True)
class Oltp:
    sources: str              # conf/sources/<file>: how the production tables map to the project's
    dump_format: str          # csv | parquet
    max_missing_share: float = bounded(0, 1)  # a full snapshot missing more of the current keys is refused
    parallel_writes: int = bounded(1)  # silver_oltp's MERGEs (one table each) running at once
    jdbc: Jdbc


@dataclasses.dataclass(frozen=True)
class World:
    seed: int
    start_date: dt.date
    days: int = bounded(1)
    users: int = bounded(1)
    products: int = bounded(1)
    dirt_rate: float = bounded(0, 1)


@dataclasses.dataclass(frozen=True)
class JobConfig:
    env: str
    paths: Paths
    business: Business
    spark: SparkSettings
    secrets: Secrets
    ingest: Ingest
    silver: Silver
    oltp: Oltp
    world: World
    experiments: Mapping[str, str]  # experiment id -> "variant:share, ..." (control first)

    def secret(self, env_var: str) -> str:
        """The value of a secret's environment variable; an error naming it if unset."""
        value = os.environ.get(env_var)
        if not value:
            raise ConfigError(f"environment variable {env_var} is not set (it holds a secret named in conf/)")
        return value


def experiment_splits(cfg: JobConfig) -> dict[str, tuple[tuple[str, float], ...]]:
    """Each configured experiment's variants and intended shares, control first."""
    result = {}
    for experiment, text in cfg.experiments.items():
        try:
            pairs = tuple((name.strip(), float(share)) for name, share in
                          (item.split(":") for item in text.split(",")))
        except ValueError:
            raise ConfigError(f"experiments.{experiment}: {text!r} is not 'variant:share, variant:share, ...'") \
                from None
        if len(pairs) < 2 or abs(sum(share for _, share in pairs) - 1) > 1e-9:
            raise ConfigError(f"experiments.{experiment}: needs two or more variants whose shares sum to 1, "
                              f"got {text!r}")
        result[experiment] = pairs
    return result


def load_config(env: str, overrides: list[str] | None = None) -> JobConfig:
    """Merge base.yaml, <env>.yaml and key=value overrides into a validated JobConfig."""
    sources = [("conf/base.yaml", read_conf_file("base.yaml"))]
    env_text = read_conf_file(f"{env}.yaml")
    if env_text is None:
        raise ConfigError(f"unknown environment {env!r}: conf/{env}.yaml does not exist "
                          f"(known: {', '.join(known_envs())})")
    sources.append((f"conf/{env}.yaml", env_text))

    merged: dict[str, Any] = {}
    for name, text in sources:
        if text is None:
            raise ConfigError(f"{name} is missing")
        try:
            layer = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{name} is not valid YAML: {str(exc).splitlines()[0]}") from None
        _check_keys(layer, JobConfig, name, prefix="")
        _deep_merge(merged, layer)
    for item in overrides or []:
        layer = _parse_override(item)
        _check_keys(layer, JobConfig, f"--conf {item}", prefix="")
        _deep_merge(merged, layer)
    merged["env"] = env
    return _build(JobConfig, merged, prefix="")


def known_envs() -> list[str]:
    names = _list_conf_files()
    return sorted(n[:-5] for n in names if n.endswith(".yaml") and n != "base.yaml")


def resolve_path(path: str) -> str:
    """A configured path as an absolute path or URI; relative paths hang off the project root."""
    if "://" in path or path.startswith("/"):
        return path
    return str(PROJECT_ROOT / path)


def _conf_location() -> tuple[Path | None, zipfile.Path | None]:
    """conf/ lives beside the packages: a directory in a checkout, or inside the zip
    that spark-submit.sh ships with --py-files (cluster deploy mode has no checkout)."""
    directory = Path(os.environ.get("LAKEHOUSE_CONF_DIR") or PROJECT_ROOT / "conf")
    if directory.is_dir():
        return directory, None
    for parent in Path(__file__).resolve().parents:
        if zipfile.is_zipfile(parent):
            return None, zipfile.Path(parent, "conf/")
    return None, None


def read_conf_file(name: str) -> str | None:
    directory, archive = _conf_location()
    candidate = directory / name if directory else (archive / name if archive else None)
    if candidate is None or not candidate.is_file():
        return None
    return candidate.read_text(encoding="utf-8")


def _list_conf_files() -> list[str]:
    directory, archive = _conf_location()
    if directory:
        return [p.name for p in directory.iterdir()]
    return [p.name for p in archive.iterdir()] if archive else []


def _key_parts(key: str) -> list[str]:
    """A dotted configuration key's parts. spark.settings.<spark key> keeps its dots: the rest
    is one Spark setting's name."""
    parts = key.strip().split(".")
    if parts[:2] == ["spark", "settings"] and len(parts) > 2:
        parts = parts[:2] + [".".join(parts[2:])]
    return parts


def _parse_override(item: str) -> dict[str, Any]:
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--conf {item!r} is not key=value (for example --conf spark.master=local[2])")
    value = yaml.safe_load(raw) if raw.strip() else None
    node: dict[str, Any] = {}
    cursor = node
    parts = _key_parts(key)
    for part in parts[:-1]:
        cursor = cursor.setdefault(part, {})
    cursor[parts[-1]] = value
    return node


def _fields(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name != "env"}


def _check_keys(layer: Any, cls: type, source: str, prefix: str) -> None:
    if not isinstance(layer, dict):
        raise ConfigError(f"{source}: {prefix.rstrip('.') or 'top level'} must be a mapping")
    fields = _fields(cls)
    for key, value in layer.items():
        if key not in fields:
            raise ConfigError(f"unknown configuration key {prefix}{key!s} in {source} "
                              f"(known here: {', '.join(sorted(fields))})")
        if dataclasses.is_dataclass(fields[key]) and value is not None:
            _check_keys(value, fields[key], source, prefix=f"{prefix}{key}.")


def _deep_merge(into: dict[str, Any], layer: dict[str, Any]) -> None:
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value


def _build(cls: type, values: dict[str, Any], prefix: str) -> Any:
    kwargs = {}
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        key = f"{prefix}{field.name}"
        value = values.get(field.name)
        if value is None:
            raise ConfigError(f"missing required configuration value {key} "
                              "(set it in conf/base.yaml, conf/<env>.yaml or with --conf)")
        kwargs[field.name] = _coerce(hints[field.name], value, key)
        if "bounds" in field.metadata:
            _check_bounds(kwargs[field.name], *field.metadata["bounds"], key)
    return cls(**kwargs)


def _check_bounds(value: float, low: float, high: float | None, key: str) -> None:
    if value < low or (high is not None and value > high):
        wanted = f"{low:g} or more" if high is None else f"between {low:g} and {high:g}"
        raise ConfigError(f"configuration value {key} must be {wanted}, got {value!r}")


def _coerce(kind: Any, value: Any, key: str) -> Any:
    if dataclasses.is_dataclass(kind):
        return _build(kind, value, prefix=f"{key}.")
    origin = typing.get_origin(kind)
    if origin in (Mapping, dict):
        if not isinstance(value, dict):
            raise ConfigError(f"configuration value {key} must be a mapping, got {value!r}")
        return types.MappingProxyType({str(k): str(v) for k, v in value.items()})
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"configuration value {key} must be true or false, got {value!r}")
        return value
    if kind is dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise ConfigError(f"configuration value {key} must be a date YYYY-MM-DD, got {value!r}") from None
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"configuration value {key} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"configuration value {key} must be a finite number, got {value!r}")
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ConfigError(f"configuration value {key} must be a whole number, got {value!r}")
        return kind(value)
    return str(value)


def _value_at(cfg: JobConfig, key: str) -> Any:
    """The value at a dotted key; a Spark setting absent from spark.settings is an empty string."""
    value: Any = cfg
    for part in _key_parts(key):
        value = value.get(part, "") if isinstance(value, Mapping) else getattr(value, part)
    return value


def _print_values(argv: list[str]) -> int:
    """`python -m jobs.common.config --env E [--conf k=v]... KEY...` prints each value on a line.
    spark-submit.sh uses it, so a bad configuration fails before a JVM starts."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m jobs.common.config")
    parser.add_argument("--env", default="local")
    parser.add_argument("--conf", action="append", default=[])
    parser.add_argument("keys", nargs="+")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.env, args.conf)
        for key in args.keys:
            print(_value_at(cfg, key))
    except (ConfigError, AttributeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(_print_values(sys.argv[1:]))
