#!/usr/bin/env bash
# `make bench-copy`: lands 1,000,000 generated JSON records into bench_copy(doc jsonb) with
# psql's \copy and with PostgresClient's copyIn, and prints both rates and their ratio.
#
#   scripts/bench-copy.sh BIN_DIR [--rows N] [--runs N] [--seed N]
#
# The NDJSON file is generated into a temporary directory and deleted afterwards.
set -euo pipefail
BIN_DIR=${1:?usage: scripts/bench-copy.sh BIN_DIR [--rows N] [--runs N] [--seed N]}
shift
: "${DATABASE_URL:?bench-copy: DATABASE_URL is not set; fix: run make bench-copy, which starts the local server}"
if ! command -v psql >/dev/null; then
    echo "bench-copy: psql not found; fix: apt-get install postgresql-client" >&2
    exit 1
fi
exec "$BIN_DIR/ota-bench" copy --database-url "$DATABASE_URL" "$@"
