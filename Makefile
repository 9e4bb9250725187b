# Quick start: `make run` (build the label system into the embedded store and serve the API on
# 127.0.0.1:8000) and `make test` (run the suite). Both install what they need first.

VENV   ?= .venv
PY     := $(VENV)/bin/python
BAMBOO := $(VENV)/bin/bamboo
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Folder with datasets' class lists (official files or known redistributions); the team's shared
# data folder when it exists. Empty: WordNet plus whatever installed packages ship (timm's lists).
DATASETS_DIR ?= $(wildcard ../shared/data/labelsets)
# A Wikidata SPARQL endpoint for the names the offline mapping leaves unplaced (off when empty).
WIKIDATA ?=

# mmcv 2.1.0 (mmdet's compiled ops) has no PyPI wheel: built once per torch version and cached
# outside the repository (about 35 min on 2 cores; see DEVELOPERS.md). On GPU machines, install
# OpenMMLab's wheel for your torch/CUDA instead and `touch $(VENV)/.detect`.
# the cache folder of bamboo.paths.cache_dir: $BAMBOO_CACHE_DIR, else $XDG_CACHE_HOME/bamboo, else ~/.cache/bamboo
WHEELS    ?= $(or $(BAMBOO_CACHE_DIR),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/bamboo)/wheels
MMCV_SDIST = https://files.pythonhosted.org/packages/a7/19/f97f0fd4d432113a232e75f965335be6b7bb6557ae9faf8051e9a012cadd/mmcv-2.1.0.tar.gz

.PHONY: run test install detect wordnet browser bench lint clean-db

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,nlp,wikidata,sdk,model,train]'
	touch $@

install: $(VENV)/.installed

$(VENV)/.detect: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[detect]' 'setuptools<81' ninja
	set -e; torch=$$($(PY) -c 'import torch; print(torch.__version__.split("+")[0])'); \
	dir=$(WHEELS)/torch-$$torch; \
	if ! ls $$dir/mmcv-2.1.0-*.whl >/dev/null 2>&1; then \
	  echo "building mmcv 2.1.0 for torch $$torch (once; about 35 min on 2 cores)"; \
	  tmp=$$(mktemp -d); curl -fsSL -o $$tmp/mmcv.tar.gz $(MMCV_SDIST); \
	  tar xzf $$tmp/mmcv.tar.gz -C $$tmp; \
	  sed -i 's/-std=c++14/-std=c++20/g; s/-std=c++17/-std=c++20/g' $$tmp/mmcv-2.1.0/setup.py; \
	  mkdir -p $$dir; \
	  MMCV_WITH_OPS=1 MAX_JOBS=$$(nproc) $(PY) -m pip wheel -q --no-deps --no-build-isolation \
	    -w $$dir $$tmp/mmcv-2.1.0; \
	  rm -rf $$tmp; \
	fi; \
	$(PY) -m pip install -q $$(ls $$dir/mmcv-2.1.0-*.whl | head -1)
	$(PY) -c 'import mmcv.ops, mmdet; print("mmdet", mmdet.__version__, "mmcv", mmcv.__version__)'
	touch $@

detect: $(VENV)/.detect

# WordNet 3.0 from Debian's wordnet-base, unless BAMBOO_WORDNET points at a dict folder already.
wordnet:
	@if [ -n "$$BAMBOO_WORDNET" ] || [ -f /usr/share/wordnet/data.noun ]; then :; \
	elif command -v apt-get >/dev/null; then \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wordnet-base; \
	else echo "install WordNet 3.0 (Debian: wordnet-base) or set BAMBOO_WORDNET to its dict folder" >&2; exit 1; fi

# Headless Chromium and its driver for the web UI's end-to-end tests (Debian packages).
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif command -v apt-get >/dev/null; then \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver; \
	else echo "install chromium and chromedriver for the UI tests" >&2; exit 1; fi

run: install wordnet
	$(BAMBOO) db start
	$(BAMBOO) build $(if $(DATASETS_DIR),--datasets-dir $(DATASETS_DIR)) $(if $(WIKIDATA),--wikidata $(WIKIDATA))
	$(BAMBOO) serve --host $(HOST) --port $(PORT)

# The suite in parallel, one worker per core (TEST_WORKERS=0 runs it in one process): each worker
# starts its own embedded store and WordNet build, so no store is shared between workers; a test
# module stays on one worker so its module fixtures are built once. The slowest tests are listed.
TEST_WORKERS ?= auto
test: install detect wordnet browser
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15

bench: install wordnet
	@command -v wrk >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk)
	$(PY) benchmarks/build.py
	$(PY) benchmarks/api.py
	$(PY) benchmarks/ood.py
	$(PY) benchmarks/dedup.py
	$(PY) benchmarks/cluster_margin.py
	$(PY) benchmarks/votes.py
	$(PY) benchmarks/cypher_isolation.py
	$(PY) benchmarks/mapping.py
	$(PY) benchmarks/label_system.py
	$(PY) benchmarks/crawl.py
	$(PY) benchmarks/scale.py
	$(PY) benchmarks/growth.py --scale
	$(PY) benchmarks/annotation.py

lint: install
	$(PY) -m pip install -q ruff mypy
	$(PY) -m ruff check .
	$(PY) -m mypy graph api cli loaders sdk training errors.py atomic.py paths.py __init__.py

clean-db:
	$(BAMBOO) db stop || true
