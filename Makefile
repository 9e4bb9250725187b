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

.PHONY: run test install wordnet bench lint clean-db

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,nlp,wikidata,sdk,model,train]'
	touch $@

install: $(VENV)/.installed

# WordNet 3.0 from Debian's wordnet-base, unless BAMBOO_WORDNET points at a dict folder already.
wordnet:
	@if [ -n "$$BAMBOO_WORDNET" ] || [ -f /usr/share/wordnet/data.noun ]; then :; \
	elif command -v apt-get >/dev/null; then \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wordnet-base; \
	else echo "install WordNet 3.0 (Debian: wordnet-base) or set BAMBOO_WORDNET to its dict folder" >&2; exit 1; fi

run: install wordnet
	$(BAMBOO) db start
	$(BAMBOO) build $(if $(DATASETS_DIR),--datasets-dir $(DATASETS_DIR))
	$(BAMBOO) serve --host $(HOST) --port $(PORT)

test: install wordnet
	$(PY) -m pytest

bench: install wordnet
	@command -v wrk >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk)
	$(PY) benchmarks/build.py
	$(PY) benchmarks/api.py
	$(PY) benchmarks/ood.py
	$(PY) benchmarks/dedup.py
	$(PY) benchmarks/cluster_margin.py
	$(PY) benchmarks/votes.py

lint: install
	$(PY) -m pip install -q ruff mypy
	$(PY) -m ruff check .
	$(PY) -m mypy graph api cli loaders sdk training errors.py __init__.py

clean-db:
	$(BAMBOO) db stop || true
