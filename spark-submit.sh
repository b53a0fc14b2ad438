#!/usr/bin/env bash
# Run any job on any Spark master: local[*] (default), spark://host:7077, yarn, k8s://...
set -euo pipefail

usage() {
  cat <<'TXT'
usage: ./spark-submit.sh [--master URL] [--env NAME] [--conf KEY=VALUE]... [--spark-conf K=V]... JOB [ARGS]

Packages this project's code (jobs/, transformations/, schemas/, world/, conf/) into
build/lakehouse.zip for --py-files, adds the pinned jars from .jars/ with --jars
(see jvm/pom.xml), and submits JOB through spark-submit.

  --master URL        Spark master; default: spark.master of the environment's config,
                      which is local[*] for the local environment
  --env NAME          configuration environment conf/NAME.yaml (default: local)
  --conf KEY=VALUE    project configuration override, e.g. --conf paths.warehouse=s3a://b/wh
  --spark-conf K=V    a Spark setting passed to spark-submit as --conf K=V
  --deploy-mode MODE  client (default) or cluster
  JOB [ARGS]          a job and its arguments; `./spark-submit.sh --list` lists the jobs,
                      `./spark-submit.sh JOB --help` explains one

Environment: SPARK_SUBMIT (default: the venv's spark-submit, else the one on PATH),
PYSPARK_PYTHON (default: the project's .venv python when it exists).

Examples:
  ./spark-submit.sh pipeline --date 2024-03-05
  ./spark-submit.sh --master spark://127.0.0.1:7077 --env cluster pipeline --start 2024-03-01 --end 2024-03-30
TXT
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || PY="$(command -v python3)"
MASTER="" ; ENV_NAME="local" ; DEPLOY_MODE="client"
PROJECT_CONF=() ; SPARK_CONF=()

while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --list) exec "$PY" -m jobs --help ;;
    --master) MASTER="${2:?--master needs a URL}"; shift 2 ;;
    --env) ENV_NAME="${2:?--env needs a name}"; shift 2 ;;
    --conf) PROJECT_CONF+=(--conf "${2:?--conf needs KEY=VALUE}"); shift 2 ;;
    --spark-conf) SPARK_CONF+=(--conf "${2:?--spark-conf needs K=V}"); shift 2 ;;
    --deploy-mode) DEPLOY_MODE="${2:?--deploy-mode needs client or cluster}"; shift 2 ;;
    -*) echo "error: unknown option $1 (see ./spark-submit.sh --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "error: no JOB given (see ./spark-submit.sh --help)" >&2; exit 2; }
JOB="$1"; shift

cd "$ROOT"
export LAKEHOUSE_HOME="$ROOT"
# Reading the configuration here fails fast, before a JVM starts, on a bad key or env.
mapfile -t VALUES < <("$PY" -m jobs.common.config --env "$ENV_NAME" "${PROJECT_CONF[@]}" \
  spark.master spark.driver_memory spark.settings.spark.driver.defaultJavaOptions \
  spark.settings.spark.driver.extraJavaOptions) || exit 1
[ ${#VALUES[@]} -eq 4 ] || exit 1
MASTER="${MASTER:-${VALUES[0]}}"
DRIVER_MEMORY="${VALUES[1]}"
# A driver started on this machine maps the classes `make setup` pre-parsed
# (jobs/common/class_archive.py); in cluster mode the driver starts elsewhere.
if [ "$DEPLOY_MODE" = "client" ]; then
  VALUES[3]="$("$PY" -m jobs.common.class_archive --options="${VALUES[3]}")" || exit 1
fi
# The driver's JVM starts here, before the job reads its configuration: its options too.
DRIVER_OPTIONS=()
[ -z "${VALUES[2]}" ] || DRIVER_OPTIONS+=(--conf "spark.driver.defaultJavaOptions=${VALUES[2]}")
[ -z "${VALUES[3]}" ] || DRIVER_OPTIONS+=(--conf "spark.driver.extraJavaOptions=${VALUES[3]}")

shopt -s nullglob
JAR_FILES=("$ROOT"/.jars/*.jar)
[ ${#JAR_FILES[@]} -gt 0 ] || { echo "error: no jars in .jars/: run 'make setup' once with network access" >&2; exit 1; }
JARS="$(IFS=,; echo "${JAR_FILES[*]}")"

# The code executors import: a zip of the packages and conf/, stamped with the code version.
mkdir -p build
"$PY" - "$ROOT" <<'PYZIP'
import pathlib, subprocess, sys, zipfile
root = pathlib.Path(sys.argv[1])
try:
    version = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=root,
                             capture_output=True, text=True, check=True).stdout.strip()
except Exception:
    version = "unknown"
target = root / "build" / "lakehouse.zip"
tmp = target.with_suffix(".zip.tmp")
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
    for package in ("jobs", "transformations", "schemas", "world", "conf"):
        for path in sorted((root / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(root).as_posix())
    archive.writestr("VERSION", version + "\n")
tmp.replace(target)
PYZIP

SUBMIT="${SPARK_SUBMIT:-}"
if [ -z "$SUBMIT" ]; then
  if [ -x "$ROOT/.venv/bin/spark-submit" ]; then SUBMIT="$ROOT/.venv/bin/spark-submit"; else SUBMIT="spark-submit"; fi
fi
if [ -z "${PYSPARK_PYTHON:-}" ] && [ -x "$ROOT/.venv/bin/python" ]; then
  export PYSPARK_PYTHON="$ROOT/.venv/bin/python"
fi

exec "$SUBMIT" \
  --master "$MASTER" \
  --deploy-mode "$DEPLOY_MODE" \
  --name "lakehouse-$JOB" \
  --driver-memory "$DRIVER_MEMORY" \
  --py-files "$ROOT/build/lakehouse.zip" \
  --jars "$JARS" \
  --driver-class-path "$ROOT/.jars/lakehouse-hadoop.jar" \
  --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
  --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
  "${DRIVER_OPTIONS[@]}" \
  "${SPARK_CONF[@]}" \
  "$ROOT/jobs/__main__.py" --env "$ENV_NAME" "${PROJECT_CONF[@]}" "$JOB" "$@"
