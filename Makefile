# The two commands of the README. Everything installs into .venv; torch is pinned to the CPU
# build that lies on this kind of machine's disk (an unpinned torch pulls several GB of CUDA).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= hub:iarbel/amazon-product-data-filter
ARGS ?=
TORCH ?= torch==2.13.0

.PHONY: install run test fuzz docs lint clean

$(BIN)/alloop: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)" -e ".[dev,ray,docs]"
	touch $@

install: $(BIN)/alloop

run: install
	$(BIN)/alloop run --data "$(DATA)" $(ARGS)

# The browser test drives Debian's chromium (Playwright's own browser download is not used).
/usr/bin/chromium:
	apt-get update -qq && apt-get install -y -qq chromium

test: install /usr/bin/chromium
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python -m pytest -q
	$(BIN)/ruff check src tests bench docs_hooks
	$(BIN)/ruff format --check src tests bench docs_hooks
	$(MKDOCS) --strict

# The property-based tests with a bigger budget than `make test` gives them (12 examples each):
# Hypothesis on the command line, Schemathesis on the labelling API, FUZZ_EXAMPLES per command and
# per route and role, new random examples each time. Examples run per command and route are
# written to bench/results/fuzz.jsonl.
FUZZ_EXAMPLES ?= 200
fuzz: install
	mkdir -p bench/results && rm -f bench/results/fuzz.jsonl
	ALLOOP_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) ALLOOP_FUZZ_REPORT=bench/results/fuzz.jsonl \
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python -m pytest -q \
	  -p no:cacheprovider --hypothesis-show-statistics \
	  tests/unit/test_properties_cli.py tests/unit/test_properties_api.py

# The documentation site (mkdocs.yml, pages in docs/) into site/. --strict: a broken link, a page
# missing from the nav or an API name that no longer resolves is an error. Works offline.
MKDOCS = NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build
docs: install
	$(MKDOCS) --strict

clean:
	rm -rf $(VENV) runs .pytest_cache site
