# classify: `make help` lists the targets. `make demo` and `make test` set up everything they need.
PYTHON_BASE ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CORPUS ?= ../shared/corpus
SEED ?= ../shared/seed/article_hajin_2018.txt
MODEL ?= models/default
CONFIG ?=
export CLASSIFY_CORPUS ?= $(abspath $(CORPUS))

.DEFAULT_GOAL := help
.PHONY: help demo test test-fast check train evaluate report predict explain segmentation experiments results bench clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

# The install builds the compiled predict kernel (setup.py): a change to it reinstalls.
$(VENV)/.installed: pyproject.toml setup.py classify/runtime/_kernel.pyx
	@$(PYTHON_BASE) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python >= 3.11 is needed")'
	$(PYTHON_BASE) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,experiments]'
	touch $@

demo: $(VENV)/.installed ## the main job: check the data, train, evaluate, report, label and explain the seed article
	$(MAKE) --no-print-directory check train evaluate report predict explain

test: $(VENV)/.installed ## run the whole test suite (slow tests included)
	$(PY) -m pytest

test-fast: $(VENV)/.installed ## run the tests not marked slow (no training on the real corpus)
	$(PY) -m pytest -m 'not slow'

check: $(VENV)/.installed ## validate data/labels.csv against the corpus, print counts
	$(PY) -m classify data check

train: $(VENV)/.installed ## train the default model (or CONFIG=experiments/configs/X.toml) into MODEL
	$(PY) -m classify train $(if $(CONFIG),--config $(CONFIG)) --out $(MODEL)

evaluate: $(VENV)/.installed ## evaluate MODEL on the held-out test split; writes reports/
	$(PY) -m classify evaluate --model $(MODEL) --split test

report: $(VENV)/.installed ## one HTML page on MODEL: card, test metrics, plots, calibration, learning curve: reports/report.html
	$(PY) -m classify report --model $(MODEL) -o reports/report.html

explain: $(VENV)/.installed ## the seed article with the words behind each label marked: reports/seed_explained.html
	$(PY) -m classify explain --model $(MODEL) $(SEED) -o reports/seed_explained.html

predict: $(VENV)/.installed ## label the seed article with MODEL, one line per kept paragraph
	$(PY) -m classify predict --model $(MODEL) $(SEED) -o reports/seed_predictions.jsonl --show

segmentation: $(VENV)/.installed ## the segmenter, cross-validated by site on the hand-marked pages (~5 min): reports/segmentation.md
	$(PY) -m classify data segmentation

experiments: $(VENV)/.installed ## run every experiment config, append to the ledger, regenerate RESULTS.md
	$(PY) -m experiments.run experiments/configs/*.toml

results: $(VENV)/.installed ## regenerate experiments/RESULTS.md from the ledger only
	$(PY) -m experiments.report

bench: $(VENV)/.installed ## prediction speed against fastText, one thread, 1k-100k paragraphs, streaming to 1M (~15 min): reports/bench.md
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m experiments.bench

clean: ## remove the environment, models and reports
	rm -rf $(VENV) models reports .pytest_cache
