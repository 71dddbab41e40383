#!/usr/bin/env bash
# Times one full `ota-ingest nightly` over a sandbox of 50 properties with a
# 365-day stay window (WebHotelier bookings, availability and rate feeds),
# after one simulated day, and prints each step's time and share; beside it,
# the anchor measured in the same run: psql \copy of the rows the night landed
# in staging into empty tables of the same columns (the bare cost of landing
# the night's data, which the nightly does along with HTTP, the transforms and
# reconciliation).
#
# Usage: scripts/bench-nightly.sh [BIN_DIR] [PROPERTIES]
# Needs DATABASE_URL (a superuser of the throwaway server, as `make db-start` writes):
# the bench works in a database of its own, dropped at the end.
set -euo pipefail
. "$(dirname "$0")/bench-common.sh"
bin_dir=${1:-$(swift build -c release --show-bin-path)}
properties=${2:-50}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${DATABASE_URL:?bench-nightly: DATABASE_URL is not set; fix: make db-start, then set -a; . .local/pg.env}"
for b in ota-ingest ota-sandbox; do
    [ -x "$bin_dir/$b" ] || { echo "bench-nightly: no $bin_dir/$b; fix: make build-release"; exit 1; }
done

work=$(mktemp -d)
db="ota_bench_nightly_$$"
cleanup() {
    kill "${BENCH_SANDBOX_PID:-}" 2>/dev/null || true
    bench_drop_db "$DATABASE_URL" "$db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
bench_url=$(bench_fresh_db "$db" "$bin_dir")
bench_start_sandbox "$bin_dir" "$work/sandbox.log" --seed 7 --properties "$properties" --min-interval 0
url=$BENCH_SANDBOX_URL
mkdir -p "$work/credentials"
curl -fsS "$url/_sandbox/accounts" | python3 -c '
import json, sys, os
for p in json.load(sys.stdin)["properties"]:
    with open(os.path.join(sys.argv[1], p["code"]), "w") as f:
        f.write(p["username"] + ":" + p["password"] + "\n")
' "$work/credentials"
# WebHotelier only: the sandbox's cursor feed serves the same cells, and two
# sources writing one fact cell repair each other every night (bench-pull
# measures the cursor feed).
cat >"$work/ota-ingest.toml" <<TOML
[sources.webhotelier]
kind = "webhotelier"
base_url = "$url"
credentials_dir = "$work/credentials"
pending_interval_minutes = 0
stay_window_days = 365
concurrency = 4
requests_per_second = 1000
burst = 1000

TOML
curl -fsS -X POST "$url/_sandbox/advance?minutes=1440" >/dev/null
now=$(curl -fsS "$url/_sandbox/clock" | sed -n 's/.*"now":"\([^"]*\)".*/\1/p')
"$bin_dir/ota-ingest" seed --dir "$ROOT/seeds" --database-url "$bench_url" >/dev/null

start=$(date +%s.%N)
status=0
"$bin_dir/ota-ingest" nightly --config "$work/ota-ingest.toml" --database-url "$bench_url" --now "$now" \
    >"$work/summary.txt" 2>"$work/nightly.log" || status=$?
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
echo "nightly over $properties properties x 365 days: $(printf '%.1f' "$elapsed") s, exit $status"
psql -q -P pager=off "$bench_url" <<'SQL'
select substr(s.command, 10) as step, round((s.counts->>'step_ms')::numeric / 1000, 1) as seconds,
       round(100.0 * (s.counts->>'step_ms')::numeric / nullif(sum((s.counts->>'step_ms')::numeric) over (), 0), 1) as "share %",
       s.status
from ops.runs s where s.night_run_id is not null order by s.started_at;
select 'staging.rate_observations' as "table", count(*) from staging.rate_observations
union all select 'staging.availability_observations', count(*) from staging.availability_observations
union all select 'staging.reservation_events', count(*) from staging.reservation_events
union all select 'facts.rates', count(*) from facts.rates;
SQL
head -20 "$work/summary.txt"

# The anchor: the rows the night landed, copied out and landed again with psql \copy.
floor_s=0
for table in rate_observations availability_observations reservation_events; do
    psql -X -q "$bench_url" -c "\\copy (select * from staging.$table) to '$work/$table.copy'" \
        -c "create table public.floor_$table (like staging.$table)"
    t0=$(bench_now)
    psql -X -q "$bench_url" -c "\\copy public.floor_$table from '$work/$table.copy'"
    floor_s=$(awk -v f="$floor_s" -v d="$(bench_elapsed "$t0" "$(bench_now)")" 'BEGIN { printf "%.3f", f + d }')
done
echo "anchor: psql \\copy of the night's staged rows into empty tables: $floor_s s; ratio $(awk -v a="$elapsed" -v b="$floor_s" 'BEGIN { printf "%.1fx", a / b }')"
[ "$status" = 0 ] || { echo "bench-nightly: the nightly exited $status"; sed -n 1,40p "$work/nightly.log"; exit 1; }
bench_record "one nightly, every step" "$elapsed" s "psql \\copy of the rows the night staged" "$floor_s"
while IFS='|' read -r step seconds; do
    bench_record "step: $step" "$seconds" s
done < <(psql -X -At "$bench_url" -c "select substr(command, 10), round((counts->>'step_ms')::numeric / 1000, 2)
    from ops.runs where night_run_id is not null order by started_at")
