# Every target bootstraps what it needs (virtualenv, dependencies, cluster) and is safe to re-run.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CLUSTER := $(PY) tests/cluster/cluster.py
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help venv cluster cluster-down demo test unit integration lint bench clean

help:
	@echo "make demo | test | lint | unit | integration | cluster | cluster-down | bench | clean"

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || "$$(scripts/pick-python)" -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@

venv: $(STAMP)

cluster: $(STAMP)
	@tests/cluster/build.sh
	@$(CLUSTER) up

cluster-down: $(STAMP)
	@$(CLUSTER) down

demo: cluster
	ansible-playbook playbooks/demo.yml

lint: $(STAMP)
	ruff check .
	ruff format --check .
	yamllint -s .
	ansible-lint --profile production

unit: $(STAMP)
	$(PY) -m pytest tests/unit

integration: $(STAMP)
	@tests/cluster/build.sh
	$(PY) -m pytest tests/integration

test: lint
	@tests/cluster/build.sh
	$(PY) -m pytest tests/unit tests/integration

$(VENV)/.installed-bench: $(STAMP) requirements-bench.txt
	$(PY) -m pip install -q -r requirements-bench.txt
	@touch $@

bench: $(VENV)/.installed-bench cluster
	$(PY) bench/run.py

clean: cluster-down
	rm -rf $(VENV) .pytest_cache .ruff_cache
