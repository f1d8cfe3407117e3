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
	$(BIN)/jupyter lab --notebook-dir=notebooks --port=$(PORT) $(if $(filter 0,$(shell id -u)),--allow-root)

test: $(STAMP)
	LECTURE_PROFILE=fast $(BIN)/python -m pytest -q

# Browser tests: JupyterLab and Voila driven by the system Chromium (never downloaded).
test-browser: $(STAMP)
	@test -x "$(or $(CHROMIUM),/usr/bin/chromium)" || { \
	  echo "make test-browser needs Chromium at $(or $(CHROMIUM),/usr/bin/chromium), and it is missing."; \
	  echo "Install it, e.g. on Debian/Ubuntu: sudo apt-get update && sudo apt-get install chromium"; \
	  echo "(or point CHROMIUM=/path/to/chromium at one you have). Nothing was installed."; \
	  exit 1; }
	CHROMIUM="$(or $(CHROMIUM),/usr/bin/chromium)" LECTURE_PROFILE=fast \
	  $(BIN)/python -m pytest -q -p no:nbval tests/browser

# Classroom mode: one notebook in Voila on loopback, code hidden, widgets live (NB=04_optimizers).
# Port 8866 unless PORT is given; a fresh token each time, printed in the URL to open. Voila runs
# through lecture_lib.present: only local Host names, no cross-origin request even with the token.
present: $(STAMP)
	@test -f notebooks/$(NB).ipynb || { echo "notebooks/$(NB).ipynb does not exist; choose NB among:"; \
	  ls notebooks | sed -n 's/\.ipynb$$//p'; exit 1; }
	@port=$(if $(filter command line environment,$(origin PORT)),$(PORT),8866); \
	  token=$$($(BIN)/python -c "import secrets; print(secrets.token_hex(16))"); \
	  echo "Presenting notebooks/$(NB).ipynb, code hidden. Open http://127.0.0.1:$$port/?token=$$token (Ctrl+C stops)"; \
	  LECTURE_STYLE=$${LECTURE_STYLE:-presentation} exec $(BIN)/python -m lecture_lib.present --no-browser \
	    --Voila.ip=127.0.0.1 --port=$$port --Voila.port_retries=0 \
	    --strip_sources=True --token=$$token notebooks/$(NB).ipynb

# Static site: every notebook executed (LECTURE_PROFILE=full by default, fast for a quick check).
site: $(STAMP)
	$(BIN)/python -m lecture_lib.site --out site --profile $(or $(LECTURE_PROFILE),full)

bench: $(STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

figures: $(STAMP)
	$(BIN)/python -m lecture_lib.figures assets

lint: $(STAMP)
	$(BIN)/ruff check lecture_lib tests benchmarks solutions

clean:
	rm -rf $(VENV) .cache site test-artifacts
