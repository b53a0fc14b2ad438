# make run   - set up, generate the sample world, run the pipeline locally, print what it built
# make test  - set up and run the whole test suite
# Set-up is idempotent: the virtualenv and the jar cache are rebuilt only when
# requirements.txt or jvm/pom.xml change, so a second run needs no network.

SHELL := /bin/bash
PYTHON_BOOTSTRAP ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JARS := .jars
LOCAL_FS_JAR := $(JARS)/lakehouse-hadoop.jar
CLASS_ARCHIVE := $(JARS)/driver-classes.jsa
# the java spark-submit starts: $JAVA_HOME's, else the one on the PATH
JAVA_BIN := $(realpath $(if $(JAVA_HOME),$(JAVA_HOME)/bin/java,$(shell command -v java 2>/dev/null)))
ENV ?= local
PYTEST_ARGS ?=
BENCH_ARGS ?=
REPLAY_ARGS ?=
# A fixed key for local runs and tests only; on a real deployment set it from a secret store.
export LAKEHOUSE_PSEUDONYM_KEY ?= local-development-key-not-a-secret

.PHONY: help setup db-servers run test test-unit cluster-test history-server bench replay clean clean-data

help:
	@echo "make run        set up, generate sample data, run the pipeline in local mode, print what it built"
	@echo "make test       set up and run all tests"
	@echo "make test-unit  only the fast unit tests"
	@echo "make cluster-test  run the pipeline on a Spark standalone cluster started on 127.0.0.1 (also part of make test)"
	@echo "make bench      the pipeline against DuckDB and PostgreSQL at 1M, 4M, 16M events (BENCH_ARGS=\"--sizes 1M,4M\")"
	@echo "make replay     replay steps of a bench world's last run on copies, A/B (REPLAY_ARGS=\"<world> <steps> --code DIR ...\")"
	@echo "make history-server  Spark's history server over data/spark-events on http://127.0.0.1:18080"
	@echo "make setup      create .venv from requirements.txt, fetch the pinned jars into .jars/, build jvm/src and the driver's class archive"
	@echo "make db-servers install the PostgreSQL and MariaDB servers the JDBC tests start (Debian packages)"
	@echo "make clean-data remove generated data and warehouse under data/"
	@echo "make clean      remove .venv, .jars and data/"

setup: $(VENV)/.installed $(JARS)/.resolved $(LOCAL_FS_JAR) $(CLASS_ARCHIVE)

db-servers:
	./scripts/install-db-servers.sh

$(VENV)/.installed: requirements.txt
	$(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(JARS)/.resolved: jvm/pom.xml
	rm -rf $(JARS) && mkdir -p $(JARS)
	mvn --batch-mode --quiet -f jvm/pom.xml dependency:copy-dependencies -DoutputDirectory=$(CURDIR)/$(JARS)
	touch $@

# The project's own JVM classes (jvm/src: a local file system that starts no chmod or readlink
# process per file; JsonContract, FileHourEnd and ClientTimestamp, functions of silver_events),
# compiled against the Hadoop, Jackson, Scala and Spark API jars pyspark ships, so with no network.
$(LOCAL_FS_JAR): $(wildcard jvm/src/io/github/lakehouse/*/*.java) $(JARS)/.resolved $(VENV)/.installed
	rm -rf build/jvm && mkdir -p build/jvm
	javac --release 17 -Xlint:all,-options -Werror -d build/jvm \
	  -cp "$$(ls $(VENV)/lib/python3*/site-packages/pyspark/jars/{hadoop-client-api,jackson-core,scala-library,spark-sql-api_}*.jar | paste -sd:)" \
	  $(filter %.java,$^)
	jar cf $@ -C build/jvm .

# The driver JVM's classes, pre-parsed once so that every driver starts faster (JDK AppCDS,
# jobs/common/class_archive.py); built again when the jars, the venv or the JDK change.
$(CLASS_ARCHIVE): $(LOCAL_FS_JAR) $(JARS)/.resolved $(VENV)/.installed jobs/common/class_archive.py $(JAVA_BIN)
	$(PY) -m jobs.common.class_archive

run: setup
	$(PY) -m jobs --env $(ENV) generate
	$(PY) -m jobs --env $(ENV) pipeline

test: setup db-servers
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: setup
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

cluster-test: setup
	$(PY) -m pytest -m cluster $(PYTEST_ARGS)

bench: setup db-servers
	$(PY) -m bench.run $(BENCH_ARGS)

replay: setup
	$(PY) -m bench.replay $(REPLAY_ARGS)

# Every run writes its event log to paths.event_log; this serves them until Ctrl-C.
history-server: setup
	mkdir -p data/spark-events
	SPARK_HISTORY_OPTS="-Dspark.history.fs.logDirectory=file:$(CURDIR)/data/spark-events -Dspark.history.ui.port=18080" \
	  $(VENV)/lib/python3*/site-packages/pyspark/bin/spark-class org.apache.spark.deploy.history.HistoryServer

clean-data:
	rm -rf data

clean: clean-data
	rm -rf $(VENV) $(JARS) build
