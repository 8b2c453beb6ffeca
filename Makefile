# gonka.fleet — build and test entry points.  `make test` runs every check on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

PYTHON      ?= python3
VENV        ?= $(CURDIR)/.venv
BIN         := $(VENV)/bin
BUILD       := $(CURDIR)/.build
COLLECTIONS := $(BUILD)/collections
COLLECTION  := $(COLLECTIONS)/ansible_collections/gonka/fleet
# ansible-test keeps its virtualenvs and caches under HOME: keep them in .build.
TEST_HOME   := $(BUILD)/home
PIP_VERSION := 24.2
MODULES     := inference_node inference_node_info inference_nodes node_info deployment_lock gpu_facts disk_free hf_model hf_model_wait hf_serve
# Other Pythons on this machine (pyenv), so sanity compiles and imports modules for target Pythons too.
TARGET_PYTHON_PATH := $(subst $(eval) ,:,$(wildcard $(HOME)/.pyenv/versions/3.*/bin))

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_NOCOLOR := 1
export PATH := $(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

LAB_INVENTORY ?= inventories/lab/hosts.yml

.PHONY: test help venv collection molecule-collection sanity units integration lint docs changelog ee build constraints \
        clean lab-engine lab-up lab lab-status lab-down lab-check-images molecule bench rules

# `make test`: two tracks side by side (tests/tools/stages.py), so the lab's longest scenario
# runs while the other checks do; each stage's output is printed whole when it ends, then the
# time of each stage. A track is stages separated by commas.
TEST_TRACKS ?= molecule-multinode \
               lint,sanity,units,integration,rules,docs,changelog,ee,lab-check-images,molecule-default,molecule-vendor
# `make molecule`: the scenarios alone, in the same arrangement
MOLECULE_TRACKS ?= molecule-multinode molecule-default,molecule-vendor
# what a molecule-<scenario> stage makes first when it is run alone; empty when the tracks run
# (made once before them: two scenarios must not rebuild the copy the other one reads)
MOLECULE_DEPS ?= venv lab-engine molecule-collection
STAGES := $(BIN)/python tests/tools/stages.py --set MOLECULE_DEPS= --logs $(BUILD)/stages

## test: every check (what .ci/run runs): two tracks side by side, with the time of each stage
test: venv lab-engine molecule-collection
	@start=$$(date +%s); \
	$(BIN)/python lab/lab.py down --keep-images; \
	$(STAGES) $(TEST_TRACKS); \
	$(BIN)/python lab/lab.py down --keep-images; \
	echo "make test: all checks passed in $$(( $$(date +%s) - start )) s"

## help: the targets, with what each does
help:
	@grep -E '^## [a-zA-Z-]+:' $(MAKEFILE_LIST) | sed -e 's/^## /  /'

## venv: the test virtualenv with pinned tools
venv: $(VENV)/.installed
$(VENV)/.installed: requirements/test.txt requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/test.txt -c requirements/constraints.txt
	touch $@

# the working tree's files (tracked and not ignored) copied to $(1)
copy_tree = rm -rf $(1) && mkdir -p $(1) && git ls-files -z --cached --others --exclude-standard \
	  | xargs -0 -r ls -d 2>/dev/null | tar -cf - --no-recursion -T - | tar -xf - -C $(1)

## collection: a copy of the working tree at ansible_collections/gonka/fleet (ansible-test needs that path)
collection:
	$(call copy_tree,$(COLLECTION))
	cd $(COLLECTION) && git init -q && git add -A

## molecule-collection: the copy the molecule scenarios run (apart from the one the static checks rebuild)
MOLECULE_COLLECTIONS := $(BUILD)/molecule/collections
molecule-collection:
	$(call copy_tree,$(MOLECULE_COLLECTIONS)/ansible_collections/gonka/fleet)

## sanity: ansible-test sanity on every Python found here (target Pythons for modules)
sanity: venv collection
	mkdir -p $(TEST_HOME)/.ansible/test/cache
	cp tests/tools/get_pip_offline.py $(TEST_HOME)/.ansible/test/cache/get_pip_$(subst .,_,$(PIP_VERSION)).py
	cd $(COLLECTION) && PATH="$(BIN):$(TARGET_PYTHON_PATH):$$PATH" HOME=$(TEST_HOME) \
	  $(BIN)/ansible-test sanity --requirements --color no

## units: pytest unit tests (client, modules, simulator) through ansible-test
units: venv collection
	cd $(COLLECTION) && HOME=$(TEST_HOME) $(BIN)/ansible-test units --python 3.11 --color no

## integration: playbooks against the Admin API simulator through ansible-test
integration: venv collection
	cd $(COLLECTION) && HOME=$(TEST_HOME) $(BIN)/ansible-test integration --python 3.11 --color no

## lint: ansible-lint, production profile
lint: venv collection
	cd $(COLLECTION) && $(BIN)/ansible-lint

## rules: the monitoring role's alert rules, rendered with its defaults: Debian's promtool (fetched, not installed) checks them and runs tests/monitoring
PROMTOOL_DIR := $(CURDIR)/.cache/promtool
PROMTOOL     := $(PROMTOOL_DIR)/root/usr/bin/promtool
rules: venv
	if [ ! -x $(PROMTOOL) ]; then \
	  rm -rf $(PROMTOOL_DIR) && mkdir -p $(PROMTOOL_DIR)/deb && cd $(PROMTOOL_DIR)/deb && \
	  fetch() { apt-get download promtool 2>/dev/null || apt-get download prometheus; }; \
	  fetch || { apt-get update -qq && fetch; }; \
	  for deb in *.deb; do dpkg-deb -x $$deb $(PROMTOOL_DIR)/root; done; \
	fi
	rm -rf $(PROMTOOL_DIR)/run && mkdir -p $(PROMTOOL_DIR)/run
	$(BIN)/ansible localhost -i localhost, -c local -m ansible.builtin.template \
	  -a "src=$(CURDIR)/roles/monitoring/templates/gonka-rules.yml.j2 dest=$(PROMTOOL_DIR)/run/gonka-rules.yml mode=0644" \
	  -e @roles/monitoring/defaults/main.yml -e ansible_python_interpreter=$(BIN)/python \
	  > $(PROMTOOL_DIR)/render.log 2>&1 || { cat $(PROMTOOL_DIR)/render.log; exit 1; }
	cp tests/monitoring/*.test.yml $(PROMTOOL_DIR)/run/
	$(PROMTOOL) --version 2>&1 | sed -n 1p
	$(PROMTOOL) check rules $(PROMTOOL_DIR)/run/gonka-rules.yml
	cd $(PROMTOOL_DIR)/run && $(PROMTOOL) test rules *.test.yml
	$(BIN)/python tests/monitoring/check_coverage.py $(PROMTOOL_DIR)/run/gonka-rules.yml tests/monitoring/*.test.yml

## docs: ansible-doc renders every module with its examples
docs: venv collection
	for module in $(MODULES); do \
	  $(BIN)/ansible-doc gonka.fleet.$$module > $(BUILD)/doc-$$module.txt; \
	  grep -q '^EXAMPLES:' $(BUILD)/doc-$$module.txt || { echo "ansible-doc gonka.fleet.$$module has no EXAMPLES"; exit 1; }; \
	  grep -q '^RETURN VALUES:' $(BUILD)/doc-$$module.txt || { echo "ansible-doc gonka.fleet.$$module has no RETURN"; exit 1; }; \
	done
	@echo "ansible-doc renders: $(MODULES)"

## changelog: changelog fragments are valid
changelog: venv
	$(BIN)/antsibull-changelog lint

## ee: the execution-environment definition builds a context
ee: venv build
	rm -rf $(BUILD)/ee
	$(BIN)/ansible-builder create --file execution-environment.yml --context $(BUILD)/ee --output-filename Containerfile
	test -s $(BUILD)/ee/Containerfile

## build: the collection tarball
build: venv
	mkdir -p $(BUILD)/dist
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist .

## lab-engine: a Docker engine, debootstrap and the trixie base image (cached)
lab-engine:
	lab/engine.sh
	lab/base-image.sh

## lab-up: the lab hosts of LAB_INVENTORY, up and answering on SSH
lab-up: venv lab-engine
	$(BIN)/python lab/lab.py up --inventory $(LAB_INVENTORY)

## lab: bring the lab up, converge it with playbooks/site.yml, show the hosts and the registered nodes
lab: lab-up collection
	$(BIN)/ansible-playbook -i $(LAB_INVENTORY) playbooks/site.yml
	$(BIN)/python lab/lab.py status --inventory $(LAB_INVENTORY)
	$(BIN)/ansible-playbook -i $(LAB_INVENTORY) playbooks/status.yml

## lab-check-images: run the stand-in images and probe every port they promise
lab-check-images: venv lab-engine
	$(BIN)/python lab/lab.py check-images

lab-status: venv
	$(BIN)/python lab/lab.py status --inventory $(LAB_INVENTORY)

## lab-down: remove every container, volume, network and image the lab made
lab-down: venv
	$(BIN)/python lab/lab.py down

## molecule: every scenario (create, converge, idempotence, verify, destroy) on lab hosts, multinode beside the others
molecule: venv lab-engine molecule-collection
	$(BIN)/python lab/lab.py down --keep-images
	$(STAGES) $(MOLECULE_TRACKS)
	$(BIN)/python lab/lab.py down --keep-images

## molecule-SCENARIO: one scenario (e.g. make molecule-default)
molecule-%: $(MOLECULE_DEPS)
	ANSIBLE_COLLECTIONS_PATH=$(MOLECULE_COLLECTIONS) $(BIN)/molecule test -s $*

## bench: the benchmarks (long; not part of `make test`): bench/results/*.json and docs/benchmarks.md
BENCH_ARGS ?=
bench: venv collection lab-engine
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## constraints: re-pin every package of the test virtualenv
constraints: venv
	{ echo '# pip freeze of the test virtualenv: regenerate with `make constraints` after changing test.txt.'; \
	  $(BIN)/pip freeze --exclude-editable; } > requirements/constraints.txt

clean:
	rm -rf $(BUILD) tests/output
