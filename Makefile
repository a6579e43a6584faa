# Two entry points for a new machine: `make run` and `make test` (see README).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test app lint bench simulate browser-deps report-deps screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,ray,dask,gm]'
	touch $(STAMP)

# The main job: batch allocation plans for every bundled scenario, then the ledger walk-through.
run: $(STAMP)
	$(BIN)/quotapool plan data/scenarios/*.toml --out out/plans
	@echo "Plans written under out/plans/. Start the app with: make app"

# The app listens on this machine only; QUOTAPOOL_APP_ADDRESS=0.0.0.0 make app opens it to the
# network (demo mode then refuses to run: configure sign-in first, see README).
QUOTAPOOL_APP_ADDRESS ?= 127.0.0.1
QUOTAPOOL_APP_PORT    ?= 8501

app: $(STAMP)
	QUOTAPOOL_DEMO=1 $(BIN)/streamlit run app.py --server.address=$(QUOTAPOOL_APP_ADDRESS) \
	  --server.port=$(QUOTAPOOL_APP_PORT) --browser.gatherUsageStats=false

# Debian's Chromium for the end-to-end browser test; installs only when missing and we may.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing and cannot be installed here: browser tests will be skipped"; fi; }
	@# A Chinese font, so that the app's screenshots show characters instead of empty boxes.
	@fc-list :lang=zh 2>/dev/null | grep -q . || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null; } || true; \
	  else echo "no Chinese font: browser screenshots will show boxes for Chinese text"; fi; }

# LibreOffice (Debian's headless Calc) to print plan.xlsx to PDF in the page-count test;
# installs only when missing and we may, else that test is skipped and says why.
report-deps:
	@command -v soffice >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui >/dev/null; \
	  else echo "soffice missing and cannot be installed here: the print layout test will be skipped"; fi; }

# The README's screenshots (docs/screenshots/*.png): the app in demo mode on 127.0.0.1 in
# Chromium, then the printed plan and loans register (LibreOffice and pdftoppm, skipped if
# missing); pngquant and optipng make them smaller where installed. See docs/screenshots.py.
screenshots: $(STAMP) browser-deps report-deps
	@command -v pdftoppm >/dev/null 2>&1 && command -v pngquant >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils pngquant optipng >/dev/null || true; fi; }
	QUOTAPOOL_DEMO=1 $(BIN)/python docs/screenshots.py

test: $(STAMP) browser-deps report-deps
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/bench_plan.py
	$(BIN)/python bench/bench_ledger.py
	$(BIN)/python bench/bench_projection.py

# The deterministic ledger simulation (SPEC 4): SEED and STEPS replay or extend a run.
SEED  ?= 1
STEPS ?= 100000

simulate: $(STAMP)
	$(BIN)/python -m tests.pools.simulation --seed $(SEED) --steps $(STEPS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
