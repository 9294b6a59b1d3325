# kam-dash: `make run` starts the app on the demo data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DB ?= data/kam.duckdb
PORT ?= 8501
# `large` and `stores200m` (200M+ store rows, ~10 GB) run only when named: BENCH_SCALES="default stores200m" make bench
BENCH_SCALES ?= default shape
BENCH_BROWSER_RUNS ?= 1

.PHONY: run test test-deps bench demo docs clean

$(VENV)/.run-installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.run-installed requirements-dev.txt requirements-spark.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(DB): | $(VENV)/.run-installed
	$(PY) -m kam_dash.cli demo --db $(DB)

# KAM_DASH_AUTH=mock make run: the same app behind sign-in, against a mock OpenID Connect provider (README).
run: $(VENV)/.run-installed $(DB)
ifeq ($(KAM_DASH_AUTH),mock)
	KAM_DASH_DB=$(DB) $(PY) -m kam_dash.mock_auth --db $(DB) --port $(PORT)
else
	KAM_DASH_DB=$(DB) $(VENV)/bin/streamlit run app.py --server.port $(PORT) --browser.gatherUsageStats false
endif

# Chromium and Java first: stop before a long install (or half-way through the suite) when they are missing.
test-deps:
	.ci/test-deps

# Two workers (the machines have 2 cores); a test module stays on one worker, so its server or Spark session is
# started once.
test: test-deps $(VENV)/.dev-installed
	$(PY) -m pytest -n 2 --dist loadscope

bench: $(VENV)/.dev-installed
	$(PY) -m bench.run --scales $(BENCH_SCALES) --browser-runs $(BENCH_BROWSER_RUNS)
	$(PY) -m bench.review_pack --scale default
	$(PY) -m bench.landing_backtest --scale default

demo: $(VENV)/.run-installed
	$(PY) -m kam_dash.cli demo --db $(DB) --force

docs: $(VENV)/.run-installed
	$(PY) -m kam_dash.cli docs

clean:
	rm -rf $(VENV) .pytest_cache bench/work
