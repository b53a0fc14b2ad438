"""The pseudonymisation key, as jobs use it, and the guard that keeps one key per table.

A keyed hash is only comparable with hashes made under the same key. Rows hashed under a new
key would split every person, email and IP of a table in two, silently: sessions and visitors
would double, and every user of an SCD2 dimension would get a new version for an email that
did not change. So each table a job hashes into keeps the fingerprint of its key as a Delta
table property, and a run with another key is refused before it writes anything.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from pyspark.sql import DataFrame, SparkSession

from jobs.common.config import JobConfig
from jobs.common.io import InputError, create_once, set_table_property, table_path
from jobs.common.delta_log import table_property
from schemas.spec import TableSpec

# Delta table property holding the fingerprint of the key a table's hashes were made with
FINGERPRINT_PROPERTY = "lakehouse.pseudonymKeyFingerprint"


def require_pseudonym_key(cfg: JobConfig) -> None:
    """Fail before Spark starts when the key's environment variable is not set."""
    cfg.secret(cfg.secrets.pseudonym_key_env)


def key_fingerprint(key: str) -> str:
    """A short public name of a key: equal keys give equal fingerprints, and the key cannot be
    read back from it (an HMAC under the key of a fixed text)."""
    return hmac.new(key.encode(), b"lakehouse pseudonym key fingerprint", hashlib.sha256).hexdigest()[:16]


def pseudonym_key_frame(spark: SparkSession, cfg: JobConfig, hashed_into: Sequence[TableSpec]) -> DataFrame:
    """A one-row DataFrame (pseudonym_key) to join, for hashing into the tables `hashed_into`
    (the key stays data, out of query plans). Each of them is created if missing and must hold
    this key's fingerprint: one that holds another key's is refused (InputError); one that holds
    none (new, or built before fingerprints were kept) is marked with this key's."""
    key = cfg.secret(cfg.secrets.pseudonym_key_env)
    fingerprint = key_fingerprint(key)
    for spec in hashed_into:
        path = table_path(cfg, spec)
        create_once(spark, cfg, spec, properties={FINGERPRINT_PROPERTY: fingerprint})
        held = table_property(spark, path, FINGERPRINT_PROPERTY)
        if held is None:
            set_table_property(spark, path, FINGERPRINT_PROPERTY, fingerprint)
        elif held != fingerprint:
            raise InputError(
                f"{spec.full_name} holds values hashed with another pseudonym key (key fingerprint {held}; the key "
                f"in {cfg.secrets.pseudonym_key_env} has fingerprint {fingerprint}). Hashes made with different "
                f"keys never match, so this run would split every person in two. Set {cfg.secrets.pseudonym_key_env} "
                "to the key the table was built with; changing keys means rebuilding silver and gold from bronze")
    return spark.createDataFrame([(key,)], "pseudonym_key string")
