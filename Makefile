# make run   - set up, generate the sample world, run the pipeline locally, print what it built
# make test  - set up and run the whole test suite
# Set-up is idempotent: the virtualenv and the jar cache are rebuilt only when
# requirements.txt or jvm/pom.xml change, so a second run needs no network.

SHELL := /bin/bash
PYTHON_BOOTSTRAP ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JARS := .jars
ENV ?= local
PYTEST_ARGS ?=
# A fixed key for local runs and tests only; on a real deployment set it from a secret store.
export LAKEHOUSE_PSEUDONYM_KEY ?= local-development-key-not-a-secret

.PHONY: help setup db-servers run test test-unit clean clean-data

help:
	@echo "make run        set up, generate sample data, run the pipeline in local mode, print what it built"
	@echo "make test       set up and run all tests"
	@echo "make test-unit  only the fast unit tests"
	@echo "make setup      create .venv from requirements.txt and fetch the pinned jars into .jars/"
	@echo "make db-servers install the PostgreSQL and MariaDB servers the JDBC tests start (Debian packages)"
	@echo "make clean-data remove generated data and warehouse under data/"
	@echo "make clean      remove .venv, .jars and data/"

setup: $(VENV)/.installed $(JARS)/.resolved

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

run: setup
	$(PY) -m jobs --env $(ENV) generate
	$(PY) -m jobs --env $(ENV) pipeline

test: setup db-servers
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: setup
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

clean-data:
	rm -rf data

clean: clean-data
	rm -rf $(VENV) $(JARS) build
