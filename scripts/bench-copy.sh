#!/usr/bin/env bash
# `make bench-copy`: lands 1,000,000 generated JSON records into bench_copy(doc jsonb) with
# psql's \copy and with PostgresClient's copyIn, and prints both rates and their ratio.
#
#   scripts/bench-copy.sh BIN_DIR [--rows N] [--runs N] [--seed N]
#
# The NDJSON file is generated into a temporary directory and deleted afterwards.
set -euo pipefail
. "$(dirname "$0")/bench-common.sh"
BIN_DIR=${1:?usage: scripts/bench-copy.sh BIN_DIR [--rows N] [--runs N] [--seed N]}
shift
: "${DATABASE_URL:?bench-copy: DATABASE_URL is not set; fix: run make bench-copy, which starts the local server}"
if ! command -v psql >/dev/null; then
    echo "bench-copy: psql not found; fix: apt-get install postgresql-client" >&2
    exit 1
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$BIN_DIR/ota-bench" copy --database-url "$DATABASE_URL" "$@" | tee "$out"
# "run N: psql  1.23 s  812345 records/s": the median time of each loader over its runs.
median_of() { awk -v l="$1" '$1 == "run" && $3 == l { print $4 }' "$out" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
bench_record "PostgresClient copyIn of the JSON rows into a jsonb column" "$(median_of PostgresClient)" s \
    "psql \\copy of the same file" "$(median_of psql)" "ratio<=1.2"
