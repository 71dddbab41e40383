# ota-ingest: the two commands are `make demo` and `make test`; everything else
# here is for people who want to poke around.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
SWIFT ?= swift
PG := scripts/pg.sh
# Every target that talks to the database reads the throwaway server's address.
WITH_PG := set -a && . .local/pg.env && set +a &&
# Release builds carry the Swift runtime inside the binary: an installed
# ota-ingest needs only libpq5 and libcurl4 from the system. The prefix maps
# name the build folder /ota-ingest/build in what the compilers record of it
# (debug info, #file and __FILE__ in dependencies' diagnostics), so nothing in
# the binary points into a build folder that will not exist where it runs.
BUILD_MAP := $(CURDIR)/.build=/ota-ingest/build
RELEASE := $(SWIFT) build -c release --static-swift-stdlib -Xswiftc -file-prefix-map -Xswiftc $(BUILD_MAP) \
	-Xcc -ffile-prefix-map=$(BUILD_MAP) -Xcxx -ffile-prefix-map=$(BUILD_MAP)
# make install [PREFIX=/usr/local] [DESTDIR=...]
PREFIX ?= /usr/local
DESTDIR ?=

CITUS_TARGETS := citus test-citus citus-start citus-stop
.PHONY: $(CITUS_TARGETS) deps build build-release install deb db-start db-stop db-reset psql demo test lint format docs bench bench-copy bench-sandbox bench-pull bench-opentravel bench-load bench-transform bench-ari bench-ari-promotion bench-reconcile bench-export bench-nightly bench-serve bench-freshness bench-report bench-citus bench-anchors torture

deps:
	@bash scripts/deps.sh

build: deps
	$(SWIFT) build

build-release: deps
	$(RELEASE) --product ota-ingest
	$(RELEASE) --product ota-sandbox

# The binaries, the systemd units (nightly service and timer, serve), the system
# user (sysusers.d), the man page and a sample config in /etc/ota-ingest/.
install: build-release
	PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" SANDBOX=1 bash scripts/install.sh "$$($(RELEASE) --show-bin-path)"

# ota-ingest_VERSION_ARCH.deb here, built with dpkg-deb from the release binary.
deb: deps
	$(RELEASE) --product ota-ingest
	CHECK_BUILD_PATHS=1 bash scripts/deb.sh "$$($(RELEASE) --show-bin-path)" .

db-start: deps
	@bash $(PG) start

db-stop:
	@bash $(PG) stop

db-reset:
	@bash $(PG) reset

# The demo's database when `make demo` made one, else the empty one `make test` uses.
psql: db-start
	@$(WITH_PG) demo="$${OTA_TEST_ADMIN_URL%/*}/ota_demo"; \
	if psql "$$demo" -Atqc 'select 1' >/dev/null 2>&1; then psql "$$demo"; else psql "$$DATABASE_URL"; fi

demo: build-release db-start
	@$(WITH_PG) bash scripts/demo.sh "$$($(RELEASE) --show-bin-path)"

# One debug build of what the tests need, then the tests against the real server.
test: deps db-start
	@$(WITH_PG) $(SWIFT) build --build-tests
	@$(WITH_PG) $(SWIFT) test --skip-build

# Citus (distributed PostgreSQL) built from source and installed for the server's
# pg_config, unless it is installed already. CITUS_SRC: the release tarball (any
# *.patch beside it is applied); by default ../shared/citus/ beside the checkout.
CITUS_SRC ?=
citus:
	@CITUS_SRC="$(CITUS_SRC)" CITUS_CALLER_DIR="$(CURDIR)" bash scripts/citus.sh

# The pipeline on a three-node Citus cluster (coordinator + two workers on loopback, started
# by the tests) beside a single server fed by the same sandbox world: fingerprints, the
# distribution itself, crash trials. Needs `make citus`; `make test` does not run these.
CITUS_FILTER := CitusTests
test-citus: deps db-start
	@$(WITH_PG) $(SWIFT) build --build-tests
	@$(WITH_PG) OTA_TEST_CITUS=1 $(SWIFT) test --skip-build --filter "$(CITUS_FILTER)"

# A cluster to poke around in (.local/citus.env has its address).
citus-start:
	@bash scripts/citus-cluster.sh start

citus-stop:
	@bash scripts/citus-cluster.sh stop

# The invariants under faults, many trials each (make test runs a few of each);
# prints the table and writes docs/reliability.md. With Citus installed (`make citus`)
# the crash trials on a three-node cluster run too; without it they are skipped, loudly.
TORTURE_FILTER := TortureTests|CrashTests|sandboxFlushAndDeltasReachFacts|sigkillOfServeMidPromotion|HostileInputTests|PullResilienceTests|ndjsonRatesLandExactly|killedAndRerun|twoAtOnce|aKilledReconcile
CITUS_TORTURE_FILTER := CitusTests/crashTrials
CITUS_INSTALLED = $(shell ls /usr/lib/postgresql/$$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1)/lib/citus.so 2>/dev/null)
torture: deps db-start
	@$(WITH_PG) $(SWIFT) build --build-tests
	@rm -f .local/torture.jsonl
	@if [ -n "$(CITUS_INSTALLED)" ]; then filter="$(TORTURE_FILTER)|$(CITUS_TORTURE_FILTER)"; citus=1; \
		note="The Citus scenarios ran on a three-node loopback cluster (Citus installed)."; \
	else filter="$(TORTURE_FILTER)"; citus=; \
		note="The Citus scenarios were skipped: Citus is not installed for this server (fix: make citus)."; \
		echo "make torture: $$note"; fi; \
	$(WITH_PG) OTA_TORTURE=1 OTA_TEST_CITUS=$$citus OTA_TORTURE_REPORT=$(CURDIR)/.local/torture.jsonl \
		$(SWIFT) test --skip-build --filter "$$filter"; status=$$?; \
		bash scripts/reliability-report.sh .local/torture.jsonl docs/reliability.md "make torture" "$$note"; exit $$status

# The architecture's rules the compiler does not check (scripts/lint-architecture.py names
# them all); each is listed here once the code keeps it. Not yet: connectors (the cursor
# feed borrows WebHotelier's FeedParser.decimal).
ARCH_CHECKS := imports runs-writer clock connections run-scope
lint:
	$(SWIFT) format lint --strict --recursive Package.swift Plugins Sources Tests
	python3 scripts/lint-architecture.py $(ARCH_CHECKS)

format:
	$(SWIFT) format format --in-place --recursive Package.swift Plugins Sources Tests

bench-copy: deps db-start
	$(RELEASE) --product ota-bench
	@$(WITH_PG) bash scripts/bench-copy.sh "$$($(RELEASE) --show-bin-path)"

bench-sandbox: build-release
	bash scripts/bench-sandbox.sh "$$($(RELEASE) --show-bin-path)"

bench-pull: build-release db-start
	@$(WITH_PG) bash scripts/bench-pull.sh "$$($(RELEASE) --show-bin-path)"

# `pull reservations` of an OpenTravel account's queues (read, durable commit, acknowledge)
# beside `ota-ingest load reservations` of the same reservations from a file.
bench-opentravel: build-release db-start
	@$(WITH_PG) bash scripts/bench-opentravel.sh "$$($(RELEASE) --show-bin-path)"

# `ota-ingest load` of 1,000,000 rate records beside two psql \copy floors: the file into a jsonb
# column, and the same records as the staging table's typed rows (in two halves at once, as the
# loader lands on two connections).
bench-load: deps db-start
	$(RELEASE) --product ota-ingest
	@$(WITH_PG) bash scripts/bench-load.sh "$$($(RELEASE) --show-bin-path)"

# First load, 10% changed, re-landed unchanged and nothing new over 1,000,000 cells, each beside a
# floor measured in the same run; checks over the keys touched and --check-all. SCALE=10 for 10x.
bench-transform: deps db-start
	@$(WITH_PG) bash scripts/bench-transform.sh

# ARI delta promotion beside the full-state path.
bench-ari-promotion: deps db-start
	@$(WITH_PG) bash scripts/bench-ari-promotion.sh

# Compare a 1,000,000-key snapshot with 1,000,000 fact cells (1% different) beside a full-outer-join floor.
bench-reconcile: deps db-start
	@$(WITH_PG) bash scripts/bench-reconcile.sh

# `ota-ingest export` of 1,000,000 rate rows against psql \copy of the same query.
bench-export: build-release db-start
	@$(WITH_PG) bash scripts/bench-export.sh "$$($(RELEASE) --show-bin-path)"

# One full nightly over a sandbox of 50 properties x 365 days: its time and each step's share.
bench-nightly: build-release db-start
	@$(WITH_PG) bash scripts/bench-nightly.sh "$$($(RELEASE) --show-bin-path)"

# Rebuild docs/data-dictionary.md from the catalog's COMMENT ON text.
docs: deps db-start
	@$(WITH_PG) bash scripts/data-dictionary.sh
	@echo "query plans: run make demo, then scripts/query-plans.sh (writes docs/query-plans.md)"

# The anchors make bench runs beside ota-ingest (dbt-postgres, dlt, the FastAPI receiver's
# packages), from PyPI into .local/anchors-venv.
bench-anchors:
	bash scripts/bench-anchors.sh

# Durable pushes/s through `ota-ingest serve` under wrk (WebHotelier JSON, OpenTravel XML),
# beside a pgbench floor, on a cluster of its own with fsync and synchronous_commit on.
bench-serve: deps
	$(RELEASE) --product ota-ingest
	bash scripts/bench-serve.sh "$$($(RELEASE) --show-bin-path)"

# OpenTravel ARI pushes through serve: a 750-night flush of 10 hotels and 2,000 small deltas, in
# durable cells/s and messages/s beside COPY of the same cells; on a cluster of its own, durable.
bench-ari: deps
	$(RELEASE) --product ota-ingest
	bash scripts/bench-ari.sh "$$($(RELEASE) --show-bin-path)"

# How soon a push is in facts: the saturated push rate with continuous promotion off and on,
# then half of it offered for 60 s (pushes and signed rate updates over 50 properties) while a
# LISTEN client records when each became visible; on a cluster of its own, durable.
bench-freshness: deps
	$(RELEASE) --product ota-ingest
	bash scripts/bench-freshness.sh "$$($(RELEASE) --show-bin-path)"

# `ota-ingest report` over 50 properties with 13 months of history, beside psql running the
# feed queries it reads, and its peak memory.
bench-report: build-release db-start
	@$(WITH_PG) bash scripts/bench-report.sh "$$($(RELEASE) --show-bin-path)"

# Transform, reconcile and nightly on the single server and on a three-node Citus cluster on
# this machine, one after the other: the cluster's overhead, and where its time goes. Needs
# `make citus` (says so and skips otherwise). SCALE=0.1 for a tenth of the data.
SCALE ?= 1
bench-citus: build-release db-start
	@$(WITH_PG) bash scripts/bench-citus.sh "$$($(RELEASE) --show-bin-path)" "$(SCALE)"

# Speed is measured here, never in timed unit tests: every benchmark, RUNS passes (3), medians
# and spread beside each same-run floor, then 10x runs of pull and transform; writes
# docs/benchmarks.md. QUICK=1: one pass at a tenth of the data. ONLY="pull load": just those.
QUICK ?=
RUNS ?=
ONLY ?=
bench: build-release db-start
	$(RELEASE) --product ota-bench
	@$(WITH_PG) QUICK="$(QUICK)" RUNS="$(RUNS)" ONLY="$(ONLY)" \
		bash scripts/bench.sh "$$($(RELEASE) --show-bin-path)"
