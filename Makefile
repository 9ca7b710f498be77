# mailtls.postfix developer entry points. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
SCENARIO ?= smoke
DEMO_SCENARIO ?= fleet
# Molecule scenarios that `make test` runs.
TEST_SCENARIOS ?= scanner fleet rotation rollback dane relay acme default probe smoke

# Podman on these machines needs the runc runtime (crun fails on their hybrid
# cgroups) and default ulimits no higher than the host's, or no container
# starts. Both are in the project's own containers.conf; exporting
# CONTAINERS_CONF applies it to every podman call below (make, molecule, the
# lab scripts) without touching the machine's configuration.
export CONTAINERS_CONF := $(CURDIR)/tests/lab/containers.conf
# The collection is found as mailtls.postfix through a link in .cache, so
# playbooks and scenarios use it by FQCN from any checkout location.
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.cache/collections
export ANSIBLE_FORCE_COLOR := 0
# The scenarios' "ansible_connection: podman" resolves to the lab's own connection
# plugin first: containers.podman.podman with pipelining (one podman exec per task
# instead of a temporary directory, a copy and a second exec; about three times
# faster per task here).
export ANSIBLE_CONNECTION_PLUGINS := $(CURDIR)/extensions/molecule/resources/connection_plugins
export ANSIBLE_PIPELINING := True
export PATH := $(VENV)/bin:$(PATH)

.PHONY: help setup system-packages venv lab ee get-pip test units sanity lint docs \
        molecule demo demo-down build constraints clean bench-probe bench-policy bench-maillog bench-converge bench-tlsrpt

help:
	@echo "make test                   run every test (sanity, units, lint, molecule scenarios)"
	@echo "make demo                   bring up the fleet lab, harden it, send mail, print a summary; make demo-down removes it"
	@echo "make setup                  create .venv, install podman/runc/debootstrap/chromium/testssl.sh/pflogsumm, build lab images"
	@echo "make sanity | units | lint | docs   one kind of test"
	@echo "make molecule SCENARIO=smoke   one Molecule scenario (molecule test)"
	@echo "make build                  build the collection tarball"
	@echo "make ee                     build the execution environment localhost/mailtls-ee:latest (ansible-builder)"
	@echo "make bench-probe | bench-policy | bench-maillog | bench-converge | bench-tlsrpt   benchmarks (print figures, see docs/benchmarks.md)"

setup: system-packages venv get-pip lab ee

system-packages:
	@missing=""; for cp in podman runc debootstrap git shellcheck chromium testssl:testssl.sh pflogsumm; do \
	  c=$${cp%%:*}; p=$${cp#*:}; command -v $$c >/dev/null || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing$$missing with apt"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

venv: $(VENV)/.stamp

$(VENV)/.stamp: tests/requirements.txt tests/constraints.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -r tests/requirements.txt -c tests/constraints.txt
	@touch $@

get-pip: venv
	@$(VENV)/bin/python tests/sanity/install-get-pip.py

lab: system-packages
	@bash tests/lab/build-images.sh
	@mkdir -p .cache/collections/ansible_collections/mailtls
	@ln -sfn $(CURDIR) .cache/collections/ansible_collections/mailtls/postfix

test: setup
	@bash tests/run-all.sh $(TEST_SCENARIOS)

# The execution environment (ee/execution-environment.yml): its base image from Debian's packages, then
# ansible-builder; the fleet scenario runs the four playbooks in it over SSH (extensions/molecule/fleet/ee.yml).
ee: venv lab
	@bash ee/build.sh

units: venv lab
	$(VENV)/bin/python -m pytest tests/unit

sanity: venv get-pip
	bash tests/sanity/run.sh

lint: venv lab
	ansible-lint --offline --profile production

docs: venv lab
	bash tests/check-docs.sh

molecule: setup
	molecule test -s $(SCENARIO)

# The fleet: lab up, harden (gather, decide, deploy), verify (real mail, key swap, the
# verify playbook), then a summary of what was decided and how each message went.
demo: setup
	molecule converge -s $(DEMO_SCENARIO)
	molecule verify -s $(DEMO_SCENARIO)
	@if [ "$(DEMO_SCENARIO)" = fleet ]; then $(VENV)/bin/python tests/lab/demo-summary.py .cache/fleet-results; fi
	@echo "demo: the lab is up (podman ps); remove it with: make demo-down"

demo-down: venv
	molecule destroy -s $(DEMO_SCENARIO)

# Benchmarks print figures; they are not part of `make test` (see docs/benchmarks.md).
bench-probe: setup
	bash tests/bench/run-mx-tls-info.sh --n 500 --rtt 0.1
	bash tests/bench/run-mx-tls-info.sh --n 500 5000 --rtt 0.1 --finger-max 0
	bash tests/bench/run-mx-tls-info.sh --n 500 --rtt 0
	bash tests/bench/run-mx-tls-info.sh --mx --n 500 --rtt 0.1
	bash tests/bench/run-mx-tls-info.sh --n 500 --rtt 0.1 --concurrency 128 --untrusted --finger-parallel 128 --playbook
	bash tests/bench/run-mx-tls-info.sh --n 20000 --rtt 0.1 --concurrency 256 --finger-max 0 --playbook

bench-policy: setup
	$(VENV)/bin/python tests/bench/policy_map_bench.py --sizes 1000 10000 100000

bench-maillog: venv lab
	$(VENV)/bin/python tests/bench/maillog_bench.py --sizes 128 1024

# parsedmarc (the peer the TLS report reader is measured against) in a virtual environment of its own, not the tests'
bench-tlsrpt: venv
	@test -x .cache/bench-parsedmarc/bin/python || $(PYTHON) -m venv .cache/bench-parsedmarc
	.cache/bench-parsedmarc/bin/python -m pip install -q parsedmarc==11.1.0
	$(VENV)/bin/python tests/bench/tlsrpt_bench.py --reports 100000

bench-converge: venv lab
	$(VENV)/bin/python tests/bench/converge_bench.py --runs 3

build: venv
	ansible-galaxy collection build --force --output-path .cache/build

# Re-pin tests/constraints.txt from the newest releases of tests/requirements.txt.
constraints:
	rm -rf .cache/constraints-venv
	$(PYTHON) -m venv .cache/constraints-venv
	.cache/constraints-venv/bin/python -m pip install -q --upgrade pip
	.cache/constraints-venv/bin/python -m pip install -q -r tests/requirements.txt
	{ echo "# Pinned versions for .venv (make setup). Regenerate with: make constraints"; \
	  .cache/constraints-venv/bin/python -m pip freeze | sort -f; } > tests/constraints.txt

clean:
	rm -rf .cache tests/output .pytest_cache
