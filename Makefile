# netvigil — the two commands a new user needs:
#   make demo   set everything up, then run the main job
#   make test   set everything up, then run every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := out/demo

.PHONY: demo test lint eval bench clean

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

# The main job, offline and without root: real interference in the loopback testbed,
# measured by the probe, stored and analysed; a month of synthetic measurements for
# volume; shutdown detection on a connectivity signal; an evidence report; then the
# dashboard.  DEMO_SERVE=0 stops before serving.
PORT       ?= 8765
DEMO_SERVE ?= 1
NV         := $(BIN)/netvigil --db $(DEMO)/netvigil.duckdb
TODAY      := $(shell date -u +%F)
MONTH_AGO  := $(shell date -u -d '28 days ago' +%F)

demo: $(STAMP) $(ASSETS)
	rm -rf $(DEMO) && mkdir -p $(DEMO)/reports
	$(NV) testbed run all --output $(DEMO)/testbed.jsonl
	$(BIN)/python -m netvigil.testbed.synthetic --count 2000 --start $(MONTH_AGO) --output $(DEMO)/synthetic.jsonl.gz
	$(BIN)/python -m netvigil.testbed.synthetic_signals --output $(DEMO)/signals.csv
	$(NV) ingest $(DEMO)/testbed.jsonl $(DEMO)/synthetic.jsonl.gz
	$(NV) detect --signals $(DEMO)/signals.csv --store --db $(DEMO)/netvigil.duckdb --min-level critical
	$(NV) stats
	$(NV) report --country IR --from $(MONTH_AGO) --to $(TODAY) --output $(DEMO)/reports
	@echo; echo "evidence report: $$(ls $(CURDIR)/$(DEMO)/reports/*.pdf) (and .html)"
	@if [ "$(DEMO_SERVE)" = 1 ]; then \
	  echo "dashboard: http://127.0.0.1:$(PORT)/  (Ctrl-C to stop)"; \
	  $(NV) serve --host 127.0.0.1 --port $(PORT) --reports-dir $(DEMO)/reports; fi

test: $(STAMP) $(ASSETS) lint
	$(BIN)/python -m pytest -q

# ruff (pyflakes and syntax errors) over everything; mypy --strict over the records in model/
# and the pure layers that judge them, analysis/ and detect/.
lint: $(STAMP)
	$(BIN)/ruff check --select F,E9 src tests bench
	$(BIN)/mypy --strict src/netvigil/model src/netvigil/failures.py src/netvigil/analysis src/netvigil/detect

eval: $(STAMP)
	$(BIN)/netvigil eval scenarios

bench: $(STAMP)
	$(BIN)/python bench/bench_ingest.py
	$(BIN)/python bench/bench_fingerprints.py
	$(BIN)/python bench/bench_probe.py
	$(BIN)/python bench/bench_detect.py
	$(BIN)/python bench/bench_testbed.py
	$(BIN)/python bench/bench_api.py
	$(BIN)/python bench/bench_search.py
	$(BIN)/python bench/bench_evidence.py

clean:
	rm -rf $(VENV) out .pytest_cache
