# Every target sets itself up: a fresh clone needs only Python 3.11 and `make`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PYPROJECT_SUM := $(shell cat pyproject.toml | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.installed-$(PYPROJECT_SUM)

.PHONY: setup lint browser test test-verl test-server serve demo bench clean

# $(call venv_rules,DIR,EXTRAS): DIR/bin/python, and DIR's install stamp (torch's CPU build first, then bao with
# EXTRAS, redone when pyproject.toml changes).
define venv_rules
$(1)/bin/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install -q --upgrade pip

$(1)/.installed-$(PYPROJECT_SUM): $(1)/bin/python pyproject.toml
	$(1)/bin/pip install -q torch==2.13.0
	$(1)/bin/pip install -q -e ".[$(2)]"
	@rm -f $(1)/.installed-*; touch $$@
endef

$(eval $(call venv_rules,$(VENV),dev))

setup: $(STAMP)

lint: setup
	$(BIN)/ruff check src tests benchmarks experiments

# The report's browser test (tests/report/test_browser.py) drives Debian's chromium through playwright.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "chromium not found: the browser test will be skipped; install it with: sudo apt-get install chromium"; fi; }

test: lint browser
	$(BIN)/python -m pytest

# bao as a verl plugin (tests/integrations/verl), in a venv of its own: verl with ray and torch takes ~2 GB
# and must not enter the main suite's venv, where those tests skip themselves.
VERL_VENV := .venv-verl
VERL_BIN := $(VERL_VENV)/bin
VERL_EXTRAS := test,verl
$(eval $(call venv_rules,$(VERL_VENV),$(VERL_EXTRAS)))

# The check fails loudly where verl would only log that the plugin did not load.
test-verl: $(VERL_VENV)/.installed-$(PYPROJECT_SUM)
	$(VERL_BIN)/python -m bao.integrations.verl.check
	$(VERL_BIN)/python -m pytest tests/integrations/verl

demo: setup
	$(BIN)/bao demo

# `bao serve`: llama-cpp-python's OpenAI-compatible server on the embedded GGUF, in a venv of its own (the package
# compiles llama.cpp from source: about 6-13 minutes on 2 cores, once).
LLAMA_VENV := .venv-llama
LLAMA_CPP := llama-cpp-python[server]==0.3.36
$(LLAMA_VENV)/.installed:
	$(PYTHON) -m venv $(LLAMA_VENV)
	$(LLAMA_VENV)/bin/pip install -q '$(LLAMA_CPP)'
	touch $@

serve: setup $(LLAMA_VENV)/.installed
	$(BIN)/bao serve --python $(LLAMA_VENV)/bin/python

# The end-to-end tests against a real llama.cpp server (outside `make test`: the build takes minutes).
test-server: setup $(LLAMA_VENV)/.installed
	BAO_LLAMA_PYTHON=$(LLAMA_VENV)/bin/python $(BIN)/python -m pytest tests/cli/test_serve_e2e.py -m server

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(VERL_VENV) $(LLAMA_VENV) .pytest_cache build *.egg-info src/*.egg-info
