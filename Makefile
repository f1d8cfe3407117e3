# Thin wrappers. Every target creates .venv (Python 3.11) and installs requirements.txt when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
NB     ?= 00_start_here

.PHONY: lab test test-browser bench figures present site lint clean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

lab: $(STAMP)
	@echo "Opening JupyterLab on notebooks/ at http://localhost:$(PORT)/lab (the full URL with its token follows)"
	$(BIN)/jupyter lab --notebook-dir=notebooks --port=$(PORT)

test: $(STAMP)
	LECTURE_PROFILE=fast $(BIN)/python -m pytest -q

test-browser: $(STAMP)
	$(BIN)/python -m pytest -q -p no:nbval tests/browser

bench: $(STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

figures: $(STAMP)
	$(BIN)/python -m lecture_lib.figures assets

lint: $(STAMP)
	$(BIN)/ruff check lecture_lib tests benchmarks solutions

clean:
	rm -rf $(VENV) .cache site test-artifacts
