# ota-ingest: the two commands are `make demo` and `make test`; everything else
# here is for people who want to poke around.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
SWIFT ?= swift
PG := scripts/pg.sh
# Every target that talks to the database reads the throwaway server's address.
WITH_PG := set -a && . .local/pg.env && set +a &&

.PHONY: deps build build-release db-start db-stop db-reset psql demo test lint format docs bench bench-copy bench-sandbox bench-pull bench-load bench-transform bench-reconcile bench-export bench-nightly

deps:
	@bash scripts/deps.sh

build: deps
	$(SWIFT) build

build-release: deps
	$(SWIFT) build -c release --product ota-ingest
	$(SWIFT) build -c release --product ota-sandbox

db-start: deps
	@bash $(PG) start

db-stop:
	@bash $(PG) stop

db-reset:
	@bash $(PG) reset

psql: db-start
	@$(WITH_PG) psql "$$DATABASE_URL"

demo: build-release db-start
	@$(WITH_PG) bash scripts/demo.sh "$$($(SWIFT) build -c release --show-bin-path)"

# One debug build of what the tests need, then the tests against the real server.
test: deps db-start
	@$(WITH_PG) $(SWIFT) build --build-tests
	@$(WITH_PG) $(SWIFT) test --skip-build

lint:
	$(SWIFT) format lint --strict --recursive Package.swift Sources Tests sql/WarehouseSQL.swift

format:
	$(SWIFT) format format --in-place --recursive Package.swift Sources Tests sql/WarehouseSQL.swift

bench-copy: deps db-start
	$(SWIFT) build -c release --product ota-bench
	@$(WITH_PG) bash scripts/bench-copy.sh "$$($(SWIFT) build -c release --show-bin-path)"

bench-sandbox: build-release
	bash scripts/bench-sandbox.sh "$$($(SWIFT) build -c release --show-bin-path)"

bench-pull: build-release db-start
	@$(WITH_PG) bash scripts/bench-pull.sh "$$($(SWIFT) build -c release --show-bin-path)"

# `ota-ingest load` of 1,000,000 rate records against psql \copy of the same file.
bench-load: deps db-start
	$(SWIFT) build -c release --product ota-ingest
	@$(WITH_PG) bash scripts/bench-load.sh "$$($(SWIFT) build -c release --show-bin-path)"

# Promote 1,000,000 staged rate observations (10% changed) over 1,000,000 cells, then nothing new.
bench-transform: deps db-start
	@$(WITH_PG) bash scripts/bench-transform.sh

# Compare a 1,000,000-key snapshot with 1,000,000 fact cells (1% different) beside a full-outer-join floor.
bench-reconcile: deps db-start
	@$(WITH_PG) bash scripts/bench-reconcile.sh

# `ota-ingest export` of 1,000,000 rate rows against psql \copy of the same query.
bench-export: build-release db-start
	@$(WITH_PG) bash scripts/bench-export.sh "$$($(SWIFT) build -c release --show-bin-path)"

# One full nightly over a sandbox of 50 properties x 365 days: its time and each step's share.
bench-nightly: build-release db-start
	@$(WITH_PG) bash scripts/bench-nightly.sh "$$($(SWIFT) build -c release --show-bin-path)"

# Rebuild docs/data-dictionary.md from the catalog's COMMENT ON text.
docs: deps db-start
	@$(WITH_PG) bash scripts/data-dictionary.sh
	@echo "query plans: run make demo, then scripts/query-plans.sh (writes docs/query-plans.md)"

# Speed is measured here, never in timed unit tests.
bench: bench-copy bench-sandbox bench-pull bench-load bench-transform bench-reconcile bench-export bench-nightly
