# Two commands for a newcomer: `make run` and `make test`. Each builds .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test

.PHONY: run test bench clean

$(PY):
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Backprop Lab needs Python 3.11+")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(TSTAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# `make run` always opens the lecture's network; `python main.py` reopens the last scenario.
ARGS ?= --scenario lecture-house-prices

run: $(STAMP)
	$(PY) main.py $(ARGS)

test: $(TSTAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: $(TSTAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -s tests/benchmarks -p no:randomly

clean:
	rm -rf $(VENV) build *.egg-info
