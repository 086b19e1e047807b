# The two commands: `make run` (the whole shop on this machine) and `make test` (every suite).
# Both create .venv and install what they need first; see README.md.

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# `make run` installs what running needs (requirements/run.txt); `make test` and the other targets
# add the test and build tools (requirements/dev.txt). Each stamp names its files' checksum.
RUN_STAMP := $(VENV)/.installed-run-$(shell cat requirements/installer.txt requirements/runtime.txt requirements/run.txt common/pyproject.toml | cksum | cut -d' ' -f1)
DEV_STAMP := $(VENV)/.installed-dev-$(shell cat requirements/installer.txt requirements/runtime.txt requirements/run.txt requirements/dev.txt common/pyproject.toml | cksum | cut -d' ' -f1)
INSTALL := scripts/install-python.sh

.PHONY: run monitor trace test fuzz bench soak diagrams lint fmt schema postman postman-examples newman reset-demo install install-run clean

install: $(DEV_STAMP)

install-run: $(RUN_STAMP)

$(RUN_STAMP):
	PYTHON=$(PYTHON) scripts/install-system-deps.sh venv
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	PYTHON=$(BIN)/python scripts/install-system-deps.sh build
	$(INSTALL) -r requirements/run.txt -e common
	rm -f $(VENV)/.installed-run-*
	touch $@

$(DEV_STAMP): $(RUN_STAMP)
	$(INSTALL) -r requirements/dev.txt
	rm -f $(VENV)/.installed-dev-*
	touch $@

## run: migrate every service, then start all six under granian (Ctrl-C stops them all)
run: install-run
	$(BIN)/python scripts/ensure_env.py
	$(BIN)/python scripts/prepare.py --demo-data
	PATH="$(BIN):$$PATH" exec $(BIN)/python scripts/start.py

## monitor: Prometheus (Debian's package) scraping the six services make run started, on :9090
monitor: install
	scripts/install-system-deps.sh monitor
	$(BIN)/python scripts/ensure_env.py
	$(BIN)/python scripts/monitor.py

## trace: an OTLP/HTTP receiver on 127.0.0.1:4318 printing each trace the shop sends as a tree of
## spans with durations (run the shop with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318)
trace: install-run
	$(BIN)/python scripts/trace.py $(ARGS)

## test: lint, each suite in its own pytest process, then the end-to-end suite under granian
test: install
	scripts/install-system-deps.sh browser || echo "No chromium: the headless-browser test will be skipped."
	scripts/install-newman.sh || echo "No newman (npm or its registry unreachable): the Postman collection's test will be skipped."
	scripts/install-system-deps.sh compose || echo "No docker-compose: the compose file's check will be skipped."
	scripts/install-system-deps.sh monitor || echo "No prometheus: the Prometheus end-to-end test and the alerting rules' check will be skipped."
	$(BIN)/python scripts/run_tests.py $(SUITES)

## fuzz: the schemathesis run of `make test` deeper: FUZZ_EXAMPLES (30) cases per operation and
## phase, every phase and check, all six services as the three roles; docs/development.md
fuzz: install
	FUZZ_EXAMPLES=$(or $(FUZZ_EXAMPLES),30) $(BIN)/python -m pytest tests/test_schemathesis.py -p no:django -q $(ARGS)

## bench: the shop as `make run` starts it, each hot path as a ratio to a bare Django endpoint
## (DB=mysql: MariaDB and Redis; TARGETS="products cart": some of them); docs/development.md
bench: install
	scripts/install-system-deps.sh bench
	$(BIN)/python bench/run.py $(if $(DB),--db $(DB)) $(TARGETS)

## soak: the shop on MariaDB with Redis under locust for SOAK_SECONDS (180), then the stock ledger
soak: install
	$(INSTALL) -r requirements/soak.txt
	$(BIN)/python bench/soak.py

## diagrams: each service's model diagram from its code into docs/diagrams/ (.dot, and .svg)
diagrams: install
	scripts/install-system-deps.sh diagrams || echo "No Graphviz: only the .dot files are written."
	$(BIN)/python scripts/diagrams.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## schema: write each service's OpenAPI schema to docs/api/
schema: install
	$(BIN)/python scripts/export_api_docs.py schema

## postman: regenerate docs/postman/ from the OpenAPI schemas and scripts/postman_requests.py
postman: install
	$(BIN)/python scripts/export_api_docs.py postman

## postman-examples: record each request's answer on a throwaway demo shop (newman), then `make postman`
postman-examples: install
	scripts/install-newman.sh
	$(BIN)/python scripts/export_api_docs.py postman-examples

## newman: run docs/postman/'s collection against the shop `make run` started (ARGS: newman options)
newman: install
	scripts/install-newman.sh
	$(BIN)/python scripts/newman.py $(ARGS)

## reset-demo: every database back to the demo data only (stop make run first; .venv and .env stay)
reset-demo: install
	$(BIN)/python scripts/reset_demo.py

clean:
	rm -rf $(VENV) var */var common/tests/var
