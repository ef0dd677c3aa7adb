# netvigil — the two commands a new user needs:
#   make demo   set everything up, then run the main job
#   make test   set everything up, then run every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := out/demo

.PHONY: demo test eval bench clean

ASSETS := src/netvigil/web/static/vendor/echarts.min.js

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Dashboard libraries come from the npm registry and are copied into the package
# (never loaded from a CDN at run time).
$(ASSETS): web/package.json web/package-lock.json web/build.mjs
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build

demo: $(STAMP) $(ASSETS)
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN)/python -m netvigil.testbed.synthetic --count 2000 --output $(DEMO)/measurements.jsonl.gz
	$(BIN)/netvigil --db $(DEMO)/netvigil.duckdb ingest $(DEMO)/measurements.jsonl.gz
	$(BIN)/netvigil --db $(DEMO)/netvigil.duckdb stats
	$(BIN)/netvigil eval scenarios

test: $(STAMP) $(ASSETS)
	$(BIN)/python -m pytest -q

eval: $(STAMP)
	$(BIN)/netvigil eval scenarios

bench: $(STAMP)
	$(BIN)/python bench/bench_ingest.py
	$(BIN)/python bench/bench_fingerprints.py
	$(BIN)/python bench/bench_probe.py
	$(BIN)/python bench/bench_detect.py

clean:
	rm -rf $(VENV) out .pytest_cache
