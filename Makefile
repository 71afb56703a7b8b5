# Every target bootstraps what it needs (virtualenv, dependencies, cluster) and is safe to re-run.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The support floor: ansible-core 2.19 on Python 3.11.
COMPAT_VENV := .venv-compat
COMPAT_STAMP := $(COMPAT_VENV)/.installed
CLUSTER := $(PY) tests/cluster/cluster.py
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help venv cluster cluster-down demo test test-compat unit integration lint sanity bench clean

help:
	@echo "make demo | test | lint | sanity | unit | integration | cluster | cluster-down | bench | clean"

$(STAMP): requirements.txt requirements-test.txt requirements-dev.txt
	@test -x $(PY) || "$$(scripts/pick-python)" -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@

venv: $(STAMP)

$(COMPAT_STAMP): requirements.txt requirements-test.txt
	@test -x $(COMPAT_VENV)/bin/python || "$$(scripts/pick-python 3.11)" -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install -q --upgrade pip
	$(COMPAT_VENV)/bin/python -m pip install -q -r requirements-test.txt "ansible-core==2.19.*"
	@touch $@

cluster: $(STAMP)
	@tests/cluster/build.sh
	@$(CLUSTER) up

cluster-down: $(STAMP)
	@$(CLUSTER) down

# The real node (kubelet + containerd, Traefik in front) where it can run: root with containerd installed.
demo: $(STAMP)
	@tests/cluster/build.sh
	@if [ "$$(id -u)" = 0 ] && command -v containerd >/dev/null; then \
	  echo "demo: real node (root, containerd available): the samples run as real pods behind Traefik"; \
	  $(CLUSTER) up --node real && $(PY) tests/images/runtime_images.py --import \
	    && $(PY) tests/images/postgres_image.py --import; \
	else \
	  echo "demo: simulated node (a real one needs root and containerd): pods are reported Ready, not run"; \
	  $(CLUSTER) up; \
	fi
	ansible-playbook playbooks/demo.yml

lint: $(STAMP)
	ruff check .
	ruff format --check .
	yamllint -s .
	ansible-lint --profile production

# ansible-test sanity + units (newest ansible-core and 2.19) and galaxy-importer on the built tarball.
sanity: $(STAMP) $(COMPAT_STAMP)
	tests/sanity/run.sh $(VENV) --importer
	tests/sanity/run.sh $(COMPAT_VENV)

unit: $(STAMP)
	$(PY) -m pytest tests/unit

integration: $(STAMP)
	@tests/cluster/build.sh
	$(PY) -m pytest tests/integration

test: lint sanity $(COMPAT_STAMP)
	@tests/cluster/build.sh
	$(PY) -m pytest tests/unit tests/integration tests/e2e
	@echo "== again on the support floor: $$($(COMPAT_VENV)/bin/ansible --version | head -1), $$($(COMPAT_VENV)/bin/python -V)"
	PATH=$(CURDIR)/$(COMPAT_VENV)/bin:$$PATH $(COMPAT_VENV)/bin/python -m pytest tests/unit tests/integration tests/e2e

test-compat: $(COMPAT_STAMP)
	@tests/cluster/build.sh
	PATH=$(CURDIR)/$(COMPAT_VENV)/bin:$$PATH $(COMPAT_VENV)/bin/python -m pytest tests/unit tests/integration

$(VENV)/.installed-bench: $(STAMP) requirements-bench.txt
	$(PY) -m pip install -q -r requirements-bench.txt
	@touch $@

bench: $(VENV)/.installed-bench cluster
	$(PY) bench/run.py

clean: cluster-down
	rm -rf $(VENV) $(COMPAT_VENV) .pytest_cache .ruff_cache
