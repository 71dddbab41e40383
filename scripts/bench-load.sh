#!/usr/bin/env bash
# Times `ota-ingest load rates` on a generated NDJSON file against two floors
# measured in the same run, and reports ota-ingest's peak memory:
#   psql \copy of the file into a one-jsonb-column table (what a user would do
#     by hand; target within 1.2x, issue 4);
#   psql \copy of the same records already rendered as the staging table's
#     typed rows into staging.rate_observations, in two halves at once as
#     ota-ingest lands on two connections (the server's own cost of landing
#     them; target within 1.1x, issue 12).
# Peak RSS under 256 MB.
#
# Usage: scripts/bench-load.sh [BIN_DIR] [RECORDS] [SEED]
# BIN_DIR defaults to the release build (`swift build -c release --product ota-ingest`).
# Needs DATABASE_URL (a superuser of the throwaway server, as `make db-start` writes):
# the bench works in a database of its own, dropped at the end.
set -euo pipefail
. "$(dirname "$0")/bench-common.sh"
bin_dir=${1:-$(swift build -c release --show-bin-path)}
records=${2:-1000000}
seed=${3:-42}
: "${DATABASE_URL:?bench-load: DATABASE_URL is not set; fix: make db-start, then set -a; . .local/pg.env}"
[ -x "$bin_dir/ota-ingest" ] || { echo "bench-load: no $bin_dir/ota-ingest; fix: swift build -c release --product ota-ingest"; exit 1; }

work=$(mktemp -d)
db="ota_bench_load_$$"
cleanup() {
    psql -q "$DATABASE_URL" -c "drop database if exists $db with (force)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
bench_url=$(bench_fresh_db "$db" "$bin_dir")

# The same kind of records a rate export holds; no backslashes or tabs, so COPY's
# text format (psql's \copy) takes each line as it is.
file="$work/rates.ndjson"
python3 - "$file" "$records" "$seed" <<'PY'
import random, sys
path, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
with open(path, "w") as out:
    for i in range(count):
        day = 1 + i // 2000 % 700
        y, d = (2025, day) if day <= 365 else (2026, day - 365)
        # day-of-year to month/day without datetime, for speed
        months = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        m = 0
        while d > months[m]:
            d -= months[m]
            m += 1
        out.write('{"property":"HTL%03d","rate_id":"%d","room":"R%d","date":"%04d-%02d-%02d","adults":%d,'
                  '"children":%d,"price":%d.%02d,"currency":"EUR","closeout":%d,"min_stay":%d}\n'
                  % (i % 50, 1000 + i % 40, i % 40 % 8, y, m + 1, d, 1 + i % 3, i % 2,
                     rng.randint(40, 600), rng.randint(0, 99), int(rng.random() < 0.05), rng.randint(1, 3)))
PY
size_mb=$(du -m "$file" | cut -f1)
echo "bench-load: $records rate records, $size_mb MB of NDJSON (seed $seed)"


# psql \copy into a one-jsonb-column table: the floor for landing these bytes.
psql -q "$bench_url" -c "create table public.bench_copy (doc jsonb)"
t0=$(bench_now)
psql -q "$bench_url" -c "\\copy public.bench_copy (doc) from '$file'"
t1=$(bench_now)
psql_s=$(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }')

# ota-ingest load rates: validation, slicing, COPY into the partitioned staging table.
timing="$work/time.txt"
t0=$(bench_now)
/usr/bin/time -v -o "$timing" "$bin_dir/ota-ingest" load rates --source bench --file "$file" \
    --database-url "$bench_url" >"$work/summary.txt"
t1=$(bench_now)
ota_s=$(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }')
landed=$(psql -Atq "$bench_url" -c "select count(*) from staging.rate_observations")
[ "$landed" = "$records" ] || { echo "bench-load: landed $landed of $records records"; cat "$work/summary.txt"; exit 1; }
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$timing")
cpu_s=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$timing")

# The rows ota-ingest landed, as typed COPY text (the columns it writes; the
# server fills loaded_at and landed_xid), then landed again by psql.
cols="source, stream, property_code, rate_id, room_code, stay_date, adults, children, channel, price, currency"
cols="$cols, closeout, min_stay, available, record_key, record_hash, source_updated_at, observed_at, load_date"
cols="$cols, batch_id, run_id, raw, origin" # one line: psql's \copy takes no line breaks
typed="$work/typed.copy"
psql -q "$bench_url" -c "\\copy (select $cols from staging.rate_observations) to '$typed'"
psql -q "$bench_url" -c "truncate staging.rate_observations" -c "vacuum staging.rate_observations"
# As ota-ingest lands observation parts on 2 connections at once, the floor copies the
# typed rows in two halves, each by its own psql at the same time: one psql alone was
# slower than ota-ingest, so it bounded nothing.
split -n l/2 "$typed" "$typed."
t0=$(bench_now)
halves=()
for half in "$typed".a?; do
    psql -q "$bench_url" -c "\\copy staging.rate_observations ($cols) from '$half'" &
    halves+=($!)
done
failed=
for pid in "${halves[@]}"; do wait "$pid" || failed=1; done
[ -z "$failed" ] || { echo "bench-load: a half of the typed-rows floor failed (its psql error is above)"; exit 1; }
t1=$(bench_now)
typed_s=$(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }')
floor_landed=$(psql -Atq "$bench_url" -c "select count(*) from staging.rate_observations")
[ "$floor_landed" = "$records" ] || { echo "bench-load: the typed-rows floor landed $floor_landed of $records rows"; exit 1; }

awk -v n="$records" -v p="$psql_s" -v t="$typed_s" -v o="$ota_s" -v rss="$rss_kb" -v cpu="$cpu_s" 'BEGIN {
    printf "ota-ingest load rates:         %6.2f s  %9.0f records/s  (%s CPU-s in ota-ingest)\n", o, n / o, cpu
    printf "floor psql \\copy NDJSON->jsonb: %6.2f s  %9.0f records/s  ratio %.2fx (target <= 1.20x)\n", p, n / p, o / p
    printf "floor psql \\copy typed rows, 2 at once: %6.2f s  %9.0f records/s  ratio %.2fx (target <= 1.10x)\n", t, n / t, o / t
    printf "ota-ingest peak RSS:           %6.1f MB (target < 256 MB)\n", rss / 1024
}'
bench_record "ota-ingest load rates" "$ota_s" s "psql \\copy of the file into one jsonb column" "$psql_s" "ratio<=1.2"
bench_record "ota-ingest load rates, against typed rows" "$ota_s" s \
    "psql \\copy of the same records as staging's typed rows, in two halves at once" "$typed_s" "ratio<=1.1"
bench_record "ota-ingest load rates peak RSS" "$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')" MB "" "" "value<256"
