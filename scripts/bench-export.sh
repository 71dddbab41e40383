#!/usr/bin/env bash
# Times `ota-ingest export pricing_current_rates` of 1,000,000 current rate
# cells against `psql \copy (select * from feeds.pricing_current_rates) to FILE`
# of the same query, CSV both, median of three runs each. Target (issue 10):
# within 1.1x of psql. Also reports ota-ingest's peak memory.
#
# Usage: scripts/bench-export.sh [BIN_DIR] [ROWS]     (REPEATS: runs of each, 3)
# Needs DATABASE_URL (a superuser of the throwaway server, as `make db-start` writes):
# the bench works in a database of its own, dropped at the end.
set -euo pipefail
. "$(dirname "$0")/bench-common.sh"
bin_dir=${1:-$(swift build -c release --show-bin-path)}
rows=${2:-1000000}
: "${DATABASE_URL:?bench-export: DATABASE_URL is not set; fix: make db-start, then set -a; . .local/pg.env}"
[ -x "$bin_dir/ota-ingest" ] || { echo "bench-export: no $bin_dir/ota-ingest; fix: swift build -c release --product ota-ingest"; exit 1; }

work=$(mktemp -d)
db="ota_bench_export_$$"
cleanup() {
    psql -q "$DATABASE_URL" -c "drop database if exists $db with (force)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
bench_url=$(bench_fresh_db "$db" "$bin_dir")

# 1,000,000 current cells: 50 properties x 20 rates x 1000 (stay date, occupancy) pairs.
psql -q -v ON_ERROR_STOP=1 "$bench_url" -v rows="$rows" <<'SQL' >/dev/null
select facts.ensure_stay_partitions('2026-01-01', '2027-01-31');
insert into facts.rates (property_code, rate_id, room_code, stay_date, adults, children, channel, valid_from,
    row_hash, version, price, currency, closeout, min_stay, source, stream, loaded_at)
select 'HTL' || lpad((i % 50)::text, 3, '0'), (1000 + (i / 50) % 20)::text, 'DBL',
       date '2026-01-01' + ((i / 1000) % 365), 1 + (i / 365000), 0, '', timestamptz '2025-12-01 00:00Z',
       md5(i::text)::uuid, 1, 40 + (i % 560) + (i % 100) / 100.0, 'EUR', i % 20 = 0, 1 + i % 3,
       'webhotelier', 'rates', timestamptz '2025-12-01 00:05Z'
from generate_series(0, :rows - 1) i;
vacuum analyze facts.rates;
SQL

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
ours=() theirs=()
for _ in $(seq 1 "${REPEATS:-3}"); do
    start=$(bench_now)
    "$bin_dir/ota-ingest" export pricing_current_rates --format csv --out "$work/ours.csv" --database-url "$bench_url" 2>"$work/ours.log"
    ours+=("$(echo "$(bench_now) - $start" | bc)")
    start=$(bench_now)
    psql -q "$bench_url" -c "\\copy (select * from feeds.pricing_current_rates) to '$work/theirs.csv' with (format csv, header true)"
    theirs+=("$(echo "$(bench_now) - $start" | bc)")
done
ours_lines=$(wc -l <"$work/ours.csv")
theirs_lines=$(wc -l <"$work/theirs.csv")
[ "$ours_lines" = "$theirs_lines" ] || { echo "bench-export: $ours_lines lines vs psql's $theirs_lines"; exit 1; }
o=$(printf '%s\n' "${ours[@]}" | median)
t=$(printf '%s\n' "${theirs[@]}" | median)
echo "export of $((ours_lines - 1)) rows (pricing_current_rates, csv, $(du -m "$work/ours.csv" | cut -f1) MB)"
echo "  ota-ingest export: ${ours[*]} s (median $o s); $(sed -n 's/.*\(peak memory [0-9]* MB\).*/\1/p' "$work/ours.log")"
echo "  psql \\copy:        ${theirs[*]} s (median $t s)"
echo "  ratio $(echo "scale=2; $o / $t" | bc) (target 1.1)"
bench_record "ota-ingest export pricing_current_rates, csv" "$o" s "psql \\copy of the same query to a file" "$t" "ratio<=1.1"
bench_record "ota-ingest export peak memory" "$(sed -n 's/.*peak memory \([0-9]*\) MB.*/\1/p' "$work/ours.log")" MB
